import { performance } from 'node:perf_hooks';
import {
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowOrchestrator,
  type StepContext,
  silentLogger,
} from '@floworch/core';
import type { Session } from './backends.js';

/** N runs of a 5-step linear flow. */
export const chainFlow: FlowDefinition = {
  id: '6d2b8f7e-0c41-4b8e-9a35-5b1e0c6f0a01',
  name: 'bench-chain',
  steps: {
    s0: { type: 'Noop' },
    s1: { type: 'Noop', runAfter: { s0: ['Succeeded'] } },
    s2: { type: 'Noop', runAfter: { s1: ['Succeeded'] } },
    s3: { type: 'Noop', runAfter: { s2: ['Succeeded'] } },
    s4: { type: 'Noop', runAfter: { s3: ['Succeeded'] } },
  },
};

const branches = Array.from({ length: 10 }, (_, i) => `b${i}`);

/** 1 → 10 parallel → 1. */
export const fanFlow: FlowDefinition = {
  id: '6d2b8f7e-0c41-4b8e-9a35-5b1e0c6f0a02',
  name: 'bench-fan',
  steps: {
    a: { type: 'Noop' },
    ...Object.fromEntries(branches.map((b) => [b, { type: 'Noop', runAfter: { a: ['Succeeded'] } }])),
    z: { type: 'Noop', runAfter: Object.fromEntries(branches.map((b) => [b, ['Succeeded']])) },
  },
};

/** Steps per run of a flow. */
export const stepsOf = (flow: FlowDefinition): number => Object.keys(flow.steps).length;

/** Handler start/end times (performance.now) per run and step, for hand-off latency. */
export class StepClock {
  readonly #times = new Map<string, Map<string, [number, number]>>();
  enabled = false;

  handler = (ctx: StepContext): null => {
    if (this.enabled) {
      const t = performance.now();
      let run = this.#times.get(ctx.runId);
      if (!run) {
        run = new Map();
        this.#times.set(ctx.runId, run);
      }
      run.set(ctx.stepKey, [t, t]);
    }
    return null;
  };

  /** Gaps between the end of chain step k and the start of step k+1, in ms. */
  chainHandoffs(): number[] {
    const gaps: number[] = [];
    for (const run of this.#times.values()) {
      for (let k = 0; k < 4; k++) {
        const end = run.get(`s${k}`)?.[1];
        const next = run.get(`s${k + 1}`)?.[0];
        if (end !== undefined && next !== undefined) gaps.push(next - end);
      }
    }
    return gaps;
  }

  clear(): void {
    this.#times.clear();
  }
}

/** An engine on a session, with run completions counted. */
export interface Engine {
  readonly orchestrator: FlowOrchestrator;
  readonly clock: StepClock;
  /** performance.now() of `step.completed` / `step.started` events, per run and step. */
  readonly events: Map<string, Map<string, { completed?: number; started?: number }>>;
  trackEvents: boolean;
  completed: number;
  failed: number;
  onComplete?: () => void;
  stop(): Promise<void>;
}

/** Starts an orchestrator over `session` with both bench flows and trivial handlers. */
export async function startEngine(session: Session, concurrency: number): Promise<Engine> {
  const clock = new StepClock();
  const orchestrator = createFlowOrchestrator({
    storage: session.storage,
    flows: [chainFlow, fanFlow],
    handlers: { Noop: clock.handler },
    concurrency,
    logger: silentLogger,
    maintenanceIntervalMs: 0,
    ...(session.runtime ? { runtime: session.runtime } : {}),
  });
  const engine: Engine = {
    orchestrator,
    clock,
    events: new Map(),
    trackEvents: false,
    completed: 0,
    failed: 0,
    stop: () => orchestrator.stop(),
  };
  orchestrator.subscribe((event) => {
    if (event.type === 'run.completed') {
      engine.completed++;
      if (event.status !== 'Succeeded') engine.failed++;
      engine.onComplete?.();
    } else if (
      engine.trackEvents &&
      event.stepKey &&
      (event.type === 'step.completed' || event.type === 'step.started')
    ) {
      const t = performance.now();
      let run = engine.events.get(event.runId);
      if (!run) {
        run = new Map();
        engine.events.set(event.runId, run);
      }
      const rec = run.get(event.stepKey) ?? {};
      if (event.type === 'step.completed') rec.completed = t;
      else rec.started = t;
      run.set(event.stepKey, rec);
    }
  });
  await orchestrator.start();
  return engine;
}

/**
 * Completes `runs` runs of `flow`, keeping at most `window` of them open at a time (a new run is
 * triggered whenever one completes). Resolves with the elapsed ms, first trigger to last completion.
 */
export async function drive(
  engine: Engine,
  flow: FlowDefinition,
  runs: number,
  window: number,
  onProgress?: (completed: number) => void,
): Promise<number> {
  const base = engine.completed;
  let launched = 0;
  let triggering = false;
  const t0 = performance.now();
  // The engine's timers are unref'd: when a due step waits for the idle poll (pollIntervalMs)
  // with nothing else pending, Node would exit mid-run. Keep the process alive while driving.
  const keepAlive = setInterval(() => {}, 1_000);
  return new Promise<number>((resolve, reject) => {
    const pump = async (): Promise<void> => {
      if (triggering) return;
      triggering = true;
      try {
        while (launched < runs && launched - (engine.completed - base) < window) {
          launched++;
          await engine.orchestrator.trigger(flow.id, { data: { n: launched } });
        }
      } catch (error) {
        clearInterval(keepAlive);
        reject(error);
      } finally {
        triggering = false;
      }
    };
    engine.onComplete = () => {
      const done = engine.completed - base;
      onProgress?.(done);
      if (done >= runs) {
        engine.onComplete = undefined;
        clearInterval(keepAlive);
        resolve(performance.now() - t0);
      } else void pump();
    };
    void pump();
  });
}

/** Event-based hand-off gaps: `step.completed` of chain step k → `step.started` of step k+1. */
export function eventHandoffs(engine: Engine): number[] {
  const gaps: number[] = [];
  for (const run of engine.events.values()) {
    for (let k = 0; k < 4; k++) {
      const end = run.get(`s${k}`)?.completed;
      const next = run.get(`s${k + 1}`)?.started;
      if (end !== undefined && next !== undefined) gaps.push(next - end);
    }
  }
  return gaps;
}

import { randomUUID } from 'node:crypto';
import {
  createFlowOrchestrator,
  type EngineEvent,
  type FlowOrchestrator,
  type FlowOrchestratorOptions,
  type FlowRunRecord,
  type FlowStorage,
  silentLogger,
} from '@floworch/core';

/** What an engine scenario gets. */
export interface ScenarioContext {
  /** A fresh, empty store. */
  readonly storage: FlowStorage;
  /** Load factor for scenarios that run many runs (1 = full size; slow backends use less). */
  readonly scale: number;
  /** Starts an orchestrator on `storage` (stopped automatically after the scenario). */
  engine(
    options: Omit<FlowOrchestratorOptions, 'storage' | 'logger'> & { storage?: FlowStorage },
  ): Promise<EngineHandle>;
}

/** A started orchestrator and the events it published. */
export interface EngineHandle {
  /** The orchestrator. */
  readonly orchestrator: FlowOrchestrator;
  /** Every event it published, in order. */
  readonly events: EngineEvent[];
}

/** One engine scenario. */
export interface EngineScenario {
  /** Stable id, e.g. `engine.idempotent-trigger`. */
  readonly id: string;
  /** What it checks. */
  readonly title: string;
  /** The check. */
  readonly run: (t: ScenarioContext) => Promise<void>;
}

/** Starts orchestrators for one scenario and stops them all afterwards. */
export function scenarioEngines(
  storage: FlowStorage,
  scale = 1,
): {
  context: ScenarioContext;
  stopAll(): Promise<void>;
} {
  const started: FlowOrchestrator[] = [];
  return {
    context: {
      storage,
      scale,
      engine: async (options) => {
        const orchestrator = createFlowOrchestrator({
          maintenanceIntervalMs: 0,
          leaseMs: 10_000,
          ...options,
          storage: options.storage ?? storage,
          logger: silentLogger,
        });
        const events: EngineEvent[] = [];
        orchestrator.subscribe((e) => {
          events.push(e);
        });
        await orchestrator.start();
        started.push(orchestrator);
        return { orchestrator, events };
      },
    },
    stopAll: async () => {
      for (const o of started.splice(0)) await o.stop();
    },
  };
}

/** Polls until the run leaves `Running`; throws after `budgetMs`. */
export async function waitForRun(
  storage: FlowStorage,
  runId: string,
  budgetMs = 10_000,
): Promise<FlowRunRecord> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const run = await storage.runs.getRunDetail(runId);
    if (run && run.status !== 'Running') return run;
    if (Date.now() > deadline)
      throw new Error(`run ${runId} still ${run?.status ?? 'missing'} after ${budgetMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { waitFor } from '../wait-for.js';

/** Step statuses of a run, by key. */
export const statusesOf = (run: FlowRunRecord): Record<string, string> =>
  Object.fromEntries((run.steps ?? []).map((s) => [s.stepKey, s.status]));

/** A fresh flow id. */
export const newFlowId = (): string => randomUUID();

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

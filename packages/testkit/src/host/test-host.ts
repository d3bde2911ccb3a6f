import {
  createFlowOrchestrator,
  type EngineEvent,
  type FlowDefinition,
  type FlowOrchestrator,
  type FlowRunRecord,
  type FlowStepRecord,
  type FlowStorage,
  ManualClock,
  type SignalDeliveryResult,
  type StepHandler,
  silentLogger,
  type TriggerRequest,
} from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { FakeTimers } from './fake-timers.js';

/** Options of {@link createFlowTestHost}. */
export interface FlowTestHostOptions {
  /** Flows under test. */
  readonly flows: readonly FlowDefinition[];
  /** Handlers by step type. */
  readonly handlers?: Readonly<Record<string, StepHandler>>;
  /**
   * Storage factory given the host's fake clock (default: in-memory). Use it to run the same
   * test on another backend.
   */
  readonly storage?: (clock: ManualClock) => FlowStorage | Promise<FlowStorage>;
  /** Start instant of the fake clock (default 2030-01-01T00:00:00Z). */
  readonly start?: Date;
  /** Claim lease in ms (default 30 000). */
  readonly leaseMs?: number;
}

/** A run started through the host. */
export interface TestRun {
  /** The run id. */
  readonly runId: string;
  /**
   * Waits until the run leaves `Running`, advancing fake time in `stepMs` steps when nothing
   * else moves (so polls, retries and timeouts fire without real waiting). Throws after
   * `budgetMs` of fake time with the run's step statuses in the message.
   */
  completed(options?: { budgetMs?: number; stepMs?: number }): Promise<FlowRunRecord>;
  /** The run as stored now. */
  detail(): Promise<FlowRunRecord>;
  /** One step's record (attempts included), or undefined. */
  step(stepKey: string): Promise<FlowStepRecord | undefined>;
  /** One step's stored output. */
  output(stepKey: string): Promise<unknown>;
  /** Step statuses by key. */
  statuses(): Promise<Record<string, string>>;
  /** Events of this run published so far. */
  events(): EngineEvent[];
}

/** A flow test host: an orchestrator on fake time. */
export interface FlowTestHost {
  /** The orchestrator. */
  readonly orchestrator: FlowOrchestrator;
  /** The store. */
  readonly storage: FlowStorage;
  /** The fake clock. */
  readonly clock: ManualClock;
  /** Every event published. */
  readonly events: readonly EngineEvent[];
  /** Starts a run. */
  trigger(flowId: string, request?: TriggerRequest): Promise<TestRun>;
  /** Moves fake time forward, firing due timers (delays, polls, retries, lease renewals, sweeps). */
  advance(ms: number): Promise<void>;
  /** Delivers a signal to a parked WaitForSignal step. */
  signal(runId: string, signalName: string, payload?: unknown): Promise<SignalDeliveryResult>;
  /** Stops the orchestrator and closes the store. */
  stop(): Promise<void>;
}

/**
 * Runs flows in-process on fake time: trigger, await completion, inspect steps and outputs,
 * advance the clock to fire polls, retries, timeouts and delayed steps without waiting.
 *
 * @example
 * const host = await createFlowTestHost({ flows: [orderFlow], handlers });
 * const run = await host.trigger(orderFlow.id, { data: { orderId: 7 } });
 * expect((await run.completed()).status).toBe('Succeeded');
 * await host.stop();
 */
export async function createFlowTestHost(options: FlowTestHostOptions): Promise<FlowTestHost> {
  const clock = new ManualClock(options.start ?? Date.UTC(2030, 0, 1));
  const timers = new FakeTimers(clock);
  const storage = options.storage ? await options.storage(clock) : createInMemoryStorage({ clock });
  const events: EngineEvent[] = [];
  const orchestrator = createFlowOrchestrator({
    storage,
    flows: options.flows,
    handlers: options.handlers ?? {},
    timers,
    logger: silentLogger,
    leaseMs: options.leaseMs ?? 30_000,
    // One process owns the store: its own wake-ups cover all work, so idle polls (which fake
    // time would otherwise fire thousands of times per simulated day) can be rare.
    pollIntervalMs: 60_000,
    telemetry: false,
  });
  orchestrator.subscribe((e) => {
    events.push(e);
  });
  await orchestrator.start();

  const detail = async (runId: string): Promise<FlowRunRecord> => {
    const run = await storage.runs.getRunDetail(runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    return run;
  };
  const statusText = (run: FlowRunRecord) =>
    (run.steps ?? []).map((s) => `${s.stepKey}=${s.status}`).join(', ') || 'no steps';

  const wrap = (runId: string): TestRun => ({
    runId,
    async completed({ budgetMs = 24 * 60 * 60 * 1000, stepMs = 1_000 } = {}) {
      const deadline = clock.now().getTime() + budgetMs;
      let idleRounds = 0;
      for (;;) {
        const run = await detail(runId);
        if (run.status !== 'Running') return run;
        // Let real asynchronous work settle first; only then move fake time (or give up).
        if (idleRounds++ < 5) {
          await new Promise((r) => setTimeout(r, 1));
          continue;
        }
        idleRounds = 0;
        if (clock.now().getTime() >= deadline) {
          throw new Error(
            `run ${runId} still Running after ${budgetMs} ms of fake time (${statusText(run)})`,
          );
        }
        await timers.advance(stepMs);
      }
    },
    detail: () => detail(runId),
    step: async (stepKey) => (await detail(runId)).steps?.find((s) => s.stepKey === stepKey),
    output: (stepKey) => storage.outputs.getStepOutput(runId, stepKey),
    statuses: async () =>
      Object.fromEntries(((await detail(runId)).steps ?? []).map((s) => [s.stepKey, s.status])),
    events: () => events.filter((e) => e.runId === runId),
  });

  return {
    orchestrator,
    storage,
    clock,
    events,
    async trigger(flowId, request) {
      const result = await orchestrator.trigger(flowId, request);
      if (!result.runId) throw new Error(`flow ${flowId} is disabled; no run was started`);
      return wrap(result.runId);
    },
    advance: (ms) => timers.advance(ms),
    signal: (runId, name, payload) => orchestrator.signal(runId, name, payload),
    async stop() {
      await orchestrator.stop();
      await storage.close();
    },
  };
}

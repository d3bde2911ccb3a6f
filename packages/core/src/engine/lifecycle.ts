import { InvalidArgumentError } from '../errors.js';
import { abortRun, type EngineContext } from './execution/context.js';
import { type RecoveryReport, recover } from './execution/recovery.js';
import { SHUTDOWN_REASON } from './execution/run-step.js';
import { sweepDeadlines } from './execution/sweeper.js';
import { createStepLoop, type StepLoopOptions } from './loop.js';
import { toManifest } from './model/index.js';
import type { StepRuntime } from './runtime/step-runtime.js';
import { loadTelemetry } from './telemetry.js';
import { validateFlowDefinition } from './validation.js';

/** Settings of an instance's {@link EngineLifecycle}. */
export interface LifecycleOptions {
  /** How the step loop runs (concurrency, poll interval, an optional job system). */
  readonly loop: Omit<StepLoopOptions, 'stopping'>;
  /** Period of the deadline sweep in ms; 0 disables it. */
  readonly maintenanceIntervalMs: number;
  /** How long `stop()` waits for running handlers before aborting them (ms). */
  readonly shutdownGraceMs: number;
  /** Start even when a step type has no handler. */
  readonly allowMissingHandlers: boolean;
  /** Load OpenTelemetry when installed. */
  readonly telemetry: boolean;
}

/** Starting, stopping and repairing one engine instance. */
export interface EngineLifecycle {
  /** Started and not stopping: commands and triggers are accepted. */
  readonly running: boolean;
  /** Validates and stores the flows, repairs runs and starts the loop; false when already started. */
  start(): Promise<boolean>;
  /**
   * Stops the loop gracefully (see `FlowOrchestrator.stop`); false when not running. `first`
   * runs once the instance refuses new work and before the loop winds down (services stop there).
   */
  stop(first?: () => Promise<void>): Promise<boolean>;
  /** One deadline sweep and repair pass now. */
  runMaintenance(): Promise<RecoveryReport & { timedOut: number }>;
  /** Asks the loop to look for due work now (no-op when stopped). */
  poke(): void;
}

/** The lifecycle of the instance whose state is `ctx`. */
export function createLifecycle(ctx: EngineContext, options: LifecycleOptions): EngineLifecycle {
  const { timers, logger } = ctx;
  let started = false;
  let stopping = false;
  let loop: StepRuntime | undefined;
  let maintenanceTimer: unknown;
  let maintenanceRunning: Promise<unknown> | undefined;

  const runMaintenance = async () => {
    // Deadlines first: a run past its deadline is closed TimedOut, not repaired.
    const timedOut = await sweepDeadlines(ctx);
    const report = await recover(ctx);
    return { ...report, timedOut };
  };

  const scheduleMaintenance = (): void => {
    if (options.maintenanceIntervalMs <= 0 || stopping) return;
    maintenanceTimer = timers.setTimeout(() => {
      // Crashed work needs no repair (its row reappears when the lease lapses): only deadlines.
      maintenanceRunning = sweepDeadlines(ctx)
        .catch((error: unknown) => logger.error('maintenance pass failed', { error }))
        .finally(() => {
          maintenanceRunning = undefined;
          scheduleMaintenance();
        });
    }, options.maintenanceIntervalMs);
  };

  const syncFlows = async (): Promise<void> => {
    const unhandled: string[] = [];
    const problems = [...ctx.flows.values()].flatMap((flow) =>
      validateFlowDefinition(flow, {
        handlers: ctx.handlers,
        allowMissingHandlers: options.allowMissingHandlers,
        unhandled,
      }),
    );
    if (problems.length > 0) throw new InvalidArgumentError('flows', problems.join('\n'));
    for (const warning of unhandled) logger.warn(warning);
    for (const flow of ctx.flows.values()) {
      const existing = await ctx.storage.flows.getById(flow.id);
      await ctx.storage.flows.save({
        id: flow.id,
        name: flow.name,
        version: flow.version ?? '1.0',
        manifestJson: JSON.stringify(toManifest(flow)),
        isEnabled: existing?.isEnabled ?? true,
      });
    }
  };

  /** Hands back what is taken, waits out the grace period, then aborts and fences the rest. */
  const shutDown = async (active: StepRuntime): Promise<void> => {
    const grace = options.shutdownGraceMs;
    await active.stop(grace);
    // Past the grace period: abort what still runs; handlers that honour the signal hand
    // their steps back themselves.
    for (const runId of ctx.running.keys()) abortRun(ctx, runId, SHUTDOWN_REASON);
    await active.drain(Math.min(grace, 1_000));
    // Whatever still runs ignored its signal: fence it out and hand its claim back now.
    ctx.halted = true;
    const stuck = await active.stop(0);
    await Promise.all(stuck.map((step) => active.handBack(step)));
    await active
      .close?.()
      .catch((error: unknown) => logger.warn('closing the step runtime failed', { error }));
  };

  return {
    get running() {
      return started && !stopping;
    },
    async start() {
      if (started) return false;
      await syncFlows();
      if (options.telemetry) ctx.telemetry = await loadTelemetry();
      ctx.halted = false;
      loop = createStepLoop(ctx, { ...options.loop, stopping: () => stopping });
      ctx.local = loop.local;
      started = true;
      await runMaintenance();
      await loop.start();
      scheduleMaintenance();
      return true;
    },
    async stop(first) {
      if (!started || stopping) return false;
      stopping = true;
      await first?.();
      timers.clearTimeout(maintenanceTimer);
      await maintenanceRunning;
      await shutDown(loop!);
      ctx.local = null;
      loop = undefined;
      started = false;
      stopping = false;
      return true;
    },
    runMaintenance,
    poke: () => loop?.requestPoll(),
  };
}

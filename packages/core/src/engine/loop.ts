/**
 * The engine's core loop, in the order a step travels it:
 *
 *   trigger  → `execution/trigger.ts`      a run is stored and its entry steps are queued
 *   queue    → `execution/enqueue.ts`      a ready step becomes a due row (taken here at once when
 *                                           this instance has room: the fast path)
 *   take     → `runtime/queue-worker.ts`   due rows are claimed under a lease (or a job system
 *                                           delivers them: `StepRuntimeFactory`)
 *   execute  → `execution/run-step.ts`     start transition, handler under lease and timeout
 *   complete → `execution/run-step.ts`     the outcome is written in one transition
 *   continue → `execution/continuation.ts` successors are queued (back to "queue") or the run
 *                                           closes
 *
 * Commands that step into a run from outside (cancel, retry, re-run, signal, extend deadline)
 * live in `commands.ts`; starting, stopping and repairing an instance in `lifecycle.ts`.
 * This module joins the take and execute ends: it builds the runtime that delivers taken steps
 * to `executeTaken`.
 * @module
 */
import type { TakenStep } from '../storage/queue-store.js';
import type { EngineContext } from './execution/context.js';
import { executeTaken } from './execution/run-step.js';
import { QueueWorker } from './runtime/queue-worker.js';
import type { StepRuntime, StepRuntimeFactory } from './runtime/step-runtime.js';

/** How the loop of one instance is run. */
export interface StepLoopOptions {
  /** Steps executing at once. */
  readonly concurrency: number;
  /** Idle poll interval in ms. */
  readonly pollIntervalMs: number;
  /** A job system delivering steps instead of the in-process queue worker. */
  readonly runtime?: StepRuntimeFactory;
  /** True once the instance is stopping: executions then hand steps back instead of starting them. */
  readonly stopping: () => boolean;
}

/** The runtime that takes due steps for this instance and executes them. */
export function createStepLoop(ctx: EngineContext, options: StepLoopOptions): StepRuntime {
  const execute = (step: TakenStep) => executeTaken(ctx, step, options.stopping);
  if (!options.runtime) return new QueueWorker(ctx, options, execute);
  return options.runtime({
    storage: ctx.storage,
    instanceId: ctx.instanceId,
    concurrency: options.concurrency,
    leaseMs: ctx.settings.leaseMs,
    pollIntervalMs: options.pollIntervalMs,
    logger: ctx.logger,
    timers: ctx.timers,
    telemetry: ctx.telemetry,
    nextOwner: () => ctx.nextOwner(),
    execute,
  });
}

/**
 * Commands that step into a run from outside the loop: cancel, retry a step, deliver a signal,
 * move the deadline. Each is one transition (or one control write) on the run; re-running is a
 * new trigger and needs no command of its own. Callers check arguments and look the run up
 * first (the flow client does).
 * @module
 */
import type { FlowDefinition } from '../model/types.js';
import type { FlowRunRecord, SignalDeliveryResult } from '../storage/records.js';
import { SkipReasons } from '../storage/statuses.js';
import { toJsonText } from '../storage/support/json.js';
import { abortRun, type EngineContext } from './execution/context.js';
import { continueRun } from './execution/continuation.js';
import { withRun } from './execution/transition.js';
import { descendantsOf } from './model/index.js';

/** How long a signal waits for the step it wakes to finish parking. */
const WAKE_WAIT_MS = 5_000;

/** Pause between looks at a step still parking. */
const WAKE_POLL_MS = 20;

/**
 * Requests cancellation of `run`: running handlers see their signal abort, and the run closes
 * `Cancelled` here and now when nothing is in flight (its flow's own continuation skips what is
 * queued). `flow` is undefined when no definition of the run's flow is known.
 */
export async function cancelRun(
  ctx: EngineContext,
  run: FlowRunRecord,
  flow: FlowDefinition | undefined,
  reason: string | null,
): Promise<{ accepted: boolean; closedImmediately: boolean }> {
  const accepted = await ctx.storage.control.requestCancel(run.id, reason);
  abortRun(ctx, run.id, SkipReasons.runTerminated('Cancelled'));
  if (run.status !== 'Running') return { accepted, closedImmediately: false };
  // Steps running elsewhere close the run when they finish.
  const closedImmediately = await withRun(ctx, run.id, async (t) => {
    if (flow) return continueRun(ctx, t, flow);
    return !t.tx.hasWorkInFlight() && t.tx.close('Cancelled');
  });
  return { accepted, closedImmediately };
}

/** Re-runs `stepKey` of a run of `flow`: resets it and its cascade-skipped descendants and queues it. */
export async function retryStep(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  stepKey: string,
): Promise<void> {
  ctx.telemetry.count('flow_step_retries', { flow_id: flow.id, step_key: stepKey });
  await ctx.storage.runs.resetCascadeSkippedDependents(runId, descendantsOf(flow, stepKey));
  await withRun(ctx, runId, async (t) => {
    t.tx.retry(stepKey);
    t.emit({
      type: 'step.retried',
      flowId: flow.id,
      runId,
      stepKey,
      status: 'Running',
      message: `Step '${stepKey}' retried.`,
    });
  });
}

/**
 * Delivers a signal to the run's parked step waiting for `signalName` and, when delivered, makes
 * that step due now. `woke` tells whether the wake landed (else the step runs at the end of its
 * park delay; the delivery itself is durable).
 */
export async function deliverSignal(
  ctx: EngineContext,
  runId: string,
  signalName: string,
  payload: unknown,
): Promise<{ result: SignalDeliveryResult; woke: boolean }> {
  const result = await ctx.storage.signals!.deliverSignal(
    runId,
    signalName,
    toJsonText(payload, 'signal payload'),
  );
  const delivered = result.status === 'Delivered' && !!result.stepKey && !!ctx.storage.queue;
  return { result, woke: delivered && (await wakeParked(ctx, runId, result.stepKey!)) };
}

/** Moves the run's deadline (un-latching a timeout so the run can be retried). */
export function extendDeadline(ctx: EngineContext, runId: string, deadline: Date): Promise<boolean> {
  return ctx.storage.control.extendDeadline(runId, deadline);
}

/**
 * Makes a parked step due now. A signal can arrive while the step is still parking (its handler
 * returned, the requeue not committed yet): then wait for the claim to be let go and wake it.
 */
async function wakeParked(ctx: EngineContext, runId: string, stepKey: string): Promise<boolean> {
  const deadline = Date.now() + WAKE_WAIT_MS;
  for (;;) {
    if (await ctx.storage.queue.wake(runId, stepKey)) return true;
    const claim = await ctx.storage.runtime?.getStepClaim(runId, stepKey);
    const live = !!claim && claim.leaseExpiresAt !== null && claim.owner !== '';
    // The claim may have been let go between the wake and the read: one more wake decides.
    if (!live) return ctx.storage.queue.wake(runId, stepKey);
    if (Date.now() > deadline) return false;
    // Real time, not ctx.timers: this waits for another task's commit, which fake timers
    // (the test host) would never let happen while the clock stands still.
    await new Promise<void>((resolve) => setTimeout(resolve, WAKE_POLL_MS));
  }
}

import type { FlowDefinition } from '../../model/types.js';
import { SkipReasons, type TerminalRunStatus } from '../../storage/statuses.js';
import { classifyRun, findStep, isForEachStep, planRun } from '../model/index.js';
import type { EngineContext } from './context.js';
import { enqueue } from './enqueue.js';
import { advanceLoops } from './foreach.js';
import { recordSkip } from './skip.js';
import { DEADLINE_PASSED, type Termination, terminatedReason, terminationOf } from './termination.js';
import type { EngineTx } from './transition.js';

/** Options of {@link continueRun}. */
export interface ContinueOptions {
  /** Dispatch delay for newly ready steps (a Succeeded result's `delayMs`). */
  readonly delayMs?: number | null;
  /** Reported on the `run.completed` event. */
  readonly completingStepKey?: string | null;
  /**
   * Skip queued steps of a terminated run even when a worker holds them (a run past its deadline
   * closes although a handler never settles; the late result is fenced out).
   */
  readonly forceTermination?: boolean;
}

/**
 * Moves a run forward inside one transition, on state read under the run's lock: skips every
 * step that can no longer run (the whole cascade), queues the ready rest (taking them for this
 * instance while it has room), drives ForEach loops, and closes the run once nothing is queued
 * or in flight — so a run closes exactly once, after its last step. In a cancelled or timed-out
 * run, queued steps nobody holds are skipped instead of waiting for their turn.
 *
 * @returns whether this transition closed the run
 */
export async function continueRun(
  ctx: EngineContext,
  t: EngineTx,
  flow: FlowDefinition,
  options: ContinueOptions = {},
): Promise<boolean> {
  const { tx } = t;
  if (tx.runStatus !== 'Running') return false;
  const now = ctx.storage.clock.now();
  const termination = terminationOf(tx.control, now);
  if (termination === 'TimedOut' && !tx.control?.timedOutAt) tx.markTimedOut(DEADLINE_PASSED);
  const delayMs = options.delayMs ?? 0;
  // Each pass may skip steps or finish loops, which can block or unblock others; the graph
  // bounds the number of passes.
  const maxPasses = Object.keys(flow.steps).length * 2 + 4;
  for (let pass = 0; pass < maxPasses; pass++) {
    let changed = false;
    const plan = planRun(flow, tx.steps, tx.queue.keys());
    for (const key of plan.blocked) {
      if (tx.queue.has(key)) continue; // queued already: whoever takes it decides
      const skipped = recordSkip(ctx, t, flow, key, {
        type: findStep(flow, key)?.type ?? 'Unknown',
        reason: SkipReasons.prerequisitesUnmet,
        message: `Step '${key}' skipped because dependencies did not match.`,
        metricReason: 'prerequisites_unmet',
      });
      if (skipped) changed = true;
    }
    if (termination) {
      if (skipTerminated(ctx, t, flow, termination, options.forceTermination ?? false)) changed = true;
    } else {
      for (const key of plan.ready) enqueue(ctx, t, flow, key, delayMs);
    }
    if (hasLoops(flow) && (await advanceLoops(ctx, t, flow, termination))) changed = true;
    if (!changed) break;
  }
  if (tx.hasWorkInFlight()) return false;
  const status: TerminalRunStatus = termination ?? classifyRun(flow, tx.steps);
  return closeRun(ctx, t, flow, status, options.completingStepKey ?? null);
}

/** Skips every queued step of a terminated run that nobody is executing. */
function skipTerminated(
  ctx: EngineContext,
  t: EngineTx,
  flow: FlowDefinition,
  termination: Exclude<Termination, null>,
  force: boolean,
): boolean {
  let changed = false;
  const reason = terminatedReason(termination);
  for (const [key, entry] of t.tx.queue) {
    if (entry.visibleAt === null) continue;
    const step = findStep(flow, key);
    if (step && isForEachStep(step) && t.tx.steps.get(key) === 'Pending') continue;
    const skipped = recordSkip(ctx, t, flow, key, {
      type: step?.type ?? 'Unknown',
      reason,
      message: reason,
      force,
    });
    if (skipped) changed = true;
  }
  return changed;
}

/**
 * Closes the run with `status` (compare-and-set inside the transition: exactly one transition
 * closes a run) and publishes `run.completed`.
 */
export function closeRun(
  ctx: EngineContext,
  t: EngineTx,
  flow: FlowDefinition,
  status: TerminalRunStatus,
  completingStepKey: string | null,
): boolean {
  if (t.tx.hasWorkInFlight() || !t.tx.close(status)) return false;
  ctx.telemetry.count('flow_runs_completed', { status });
  t.emit({
    type: 'run.completed',
    flowId: flow.id,
    runId: t.tx.runId,
    stepKey: completingStepKey,
    status,
    message: `Run completed with status ${status}.`,
  });
  return true;
}

const loopFlows = new WeakMap<FlowDefinition, boolean>();

/** Whether the flow has a ForEach step anywhere (cached per flow object). */
function hasLoops(flow: FlowDefinition): boolean {
  let found = loopFlows.get(flow);
  if (found === undefined) {
    found = Object.values(flow.steps).some((step) => isForEachStep(step));
    loopFlows.set(flow, found);
  }
  return found;
}

import type { FlowRunControlRecord } from '../../storage/records.js';
import { SkipReasons } from '../../storage/statuses.js';
import type { EngineContext } from './context.js';

/** Why a run must stop, or null when it may continue. */
export type Termination = 'Cancelled' | 'TimedOut' | null;

/**
 * Reads the run's control row: timed out (or past its deadline, which latches the timeout now)
 * wins over cancelled.
 */
export async function resolveTermination(ctx: EngineContext, runId: string): Promise<Termination> {
  const control = await readControl(ctx, runId);
  if (!control) return null;
  if (control.timedOutAt) return 'TimedOut';
  if (control.timeoutAt && control.timeoutAt.getTime() <= ctx.storage.clock.now().getTime()) {
    await ctx.storage.control.markTimedOut(runId, 'Run timed out before scheduling next step.');
    ctx.controls.delete(runId.toLowerCase());
    return 'TimedOut';
  }
  return control.cancelRequested ? 'Cancelled' : null;
}

/** The run's control row, reused for `controlCacheMs` after a read (deadlines are still checked against now). */
async function readControl(ctx: EngineContext, runId: string): Promise<FlowRunControlRecord | null> {
  const key = runId.toLowerCase();
  const ttl = ctx.settings.controlCacheMs;
  const cached = ctx.controls.get(key);
  if (ttl > 0 && cached && performance.now() - cached.at < ttl) return cached.control;
  const control = await ctx.storage.control.getRunControl(runId);
  if (ttl > 0) {
    ctx.controls.set(key, { at: performance.now(), control });
    // Bounded: drop the oldest entries once the map grows past a few thousand runs.
    if (ctx.controls.size > 5_000) ctx.controls.delete(ctx.controls.keys().next().value as string);
  }
  return control;
}

/** The skip reason recorded on steps that reach a terminated run. */
export function terminatedReason(termination: Exclude<Termination, null>): string {
  return SkipReasons.runTerminated(termination);
}

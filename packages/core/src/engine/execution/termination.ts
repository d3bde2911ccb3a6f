import { SkipReasons } from '../../storage/statuses.js';
import type { EngineContext } from './context.js';

/** Why a run must stop, or null when it may continue. */
export type Termination = 'Cancelled' | 'TimedOut' | null;

/**
 * Reads the run's control row: timed out (or past its deadline, which latches the timeout now)
 * wins over cancelled.
 */
export async function resolveTermination(ctx: EngineContext, runId: string): Promise<Termination> {
  const control = await ctx.storage.control.getRunControl(runId);
  if (!control) return null;
  if (control.timedOutAt) return 'TimedOut';
  if (control.timeoutAt && control.timeoutAt.getTime() <= ctx.storage.clock.now().getTime()) {
    await ctx.storage.control.markTimedOut(runId, 'Run timed out before scheduling next step.');
    return 'TimedOut';
  }
  return control.cancelRequested ? 'Cancelled' : null;
}

/** The skip reason recorded on steps that reach a terminated run. */
export function terminatedReason(termination: Exclude<Termination, null>): string {
  return SkipReasons.runTerminated(termination);
}

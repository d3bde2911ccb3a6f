import type { FlowRunControlRecord } from '../../storage/records.js';
import { SkipReasons } from '../../storage/statuses.js';

/** Why a run must stop, or null when it may continue. */
export type Termination = 'Cancelled' | 'TimedOut' | null;

/**
 * What a control row says about the run at `now`: timed out (latched, or past its deadline) wins
 * over cancelled. A deadline that passed but is not latched yet is latched by the next transition.
 */
export function terminationOf(control: FlowRunControlRecord | null, now: Date): Termination {
  if (!control) return null;
  if (control.timedOutAt) return 'TimedOut';
  if (control.timeoutAt && control.timeoutAt.getTime() <= now.getTime()) return 'TimedOut';
  return control.cancelRequested ? 'Cancelled' : null;
}

/** The skip reason recorded on steps that reach a terminated run. */
export function terminatedReason(termination: Exclude<Termination, null>): string {
  return SkipReasons.runTerminated(termination);
}

/** Reason latched when a transition finds the run past its deadline. */
export const DEADLINE_PASSED = 'Run timed out before scheduling next step.';

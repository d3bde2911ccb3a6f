/** Status of one step of a run, persisted by name. */
export type StepStatus = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped';

/** Every {@link StepStatus}, in the reference system's numeric order. */
export const STEP_STATUSES: readonly StepStatus[] = Object.freeze([
  'Pending',
  'Running',
  'Succeeded',
  'Failed',
  'Skipped',
]);

/**
 * Status of a run. `Running` is the only non-terminal value. The open string tail keeps stores
 * honest about values written by other versions: they must round-trip them verbatim.
 */
export type RunStatus = 'Running' | 'Succeeded' | 'Failed' | 'Skipped' | 'Cancelled' | 'TimedOut';

/** Terminal statuses a run can be completed with. */
export type TerminalRunStatus = Exclude<RunStatus, 'Running'>;

/** Every {@link RunStatus}. */
export const RUN_STATUSES: readonly RunStatus[] = Object.freeze([
  'Running',
  'Succeeded',
  'Failed',
  'Skipped',
  'Cancelled',
  'TimedOut',
]);

/** True for `Succeeded`, `Failed` and `Skipped`: a step in such a status never runs again on its own. */
export function isTerminalStepStatus(status: string): boolean {
  return status === 'Succeeded' || status === 'Failed' || status === 'Skipped';
}

/** True for every run status except `Running`. */
export function isTerminalRunStatus(status: string): boolean {
  return status !== 'Running';
}

/**
 * Parses a persisted step status the way every backend must: names match case-insensitively and
 * anything unrecognised reads as `Failed` (a corrupt row must not look runnable).
 */
export function parseStepStatus(value: string | null | undefined): StepStatus {
  const lower = (value ?? '').toLowerCase();
  for (const status of STEP_STATUSES) {
    if (status.toLowerCase() === lower) return status;
  }
  return 'Failed';
}

/** Well-known reasons stored in the `errorMessage` of a `Skipped` step. */
export const SkipReasons = Object.freeze({
  /**
   * A dependency reached a status its `runAfter` clause rejects. The exact text is part of the
   * storage contract: `resetCascadeSkippedDependents` matches it verbatim.
   */
  prerequisitesUnmet: 'Prerequisite status did not satisfy runAfter conditions.',
  /** The step reached execution after its run was cancelled or timed out. */
  runTerminated: (status: 'Cancelled' | 'TimedOut') => `Run is ${status}.`,
  /** A `When` clause evaluated to false. */
  whenFalse: (expression: string, resolved: string) =>
    `When clause '${expression}' evaluated to false (${resolved}).`,
  /** No handler is registered for the step's type. */
  noHandler: (type: string) => `No handler registered for type '${type}'.`,
  /** The step is not in the flow's manifest. */
  metadataNotFound: 'Step metadata not found.',
});

/** Event types the engine persists and publishes. */
export type FlowEventType =
  | 'run.started'
  | 'step.started'
  | 'step.completed'
  | 'step.failed'
  | 'step.pending'
  | 'step.skipped'
  | 'step.retried'
  | 'run.completed';

/** The pseudo step key run-level events are recorded against. */
export const RUN_EVENT_STEP_KEY = '__run';

/** Outcome of delivering a signal to a parked `WaitForSignal` step. */
export type SignalDeliveryStatus = 'Delivered' | 'NotFound' | 'AlreadyDelivered';

/** Bucket size of a run timeseries. */
export type TimeseriesGranularity = 'Hour' | 'Day';

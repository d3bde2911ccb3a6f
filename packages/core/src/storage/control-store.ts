import type { FlowRunControlRecord, OverdueRun, Uuid } from './records.js';

/** Input of {@link FlowRunControlStore.configureRun}. */
export interface ConfigureRunInput {
  /** Run id. */
  readonly runId: Uuid;
  /** Flow id. */
  readonly flowId: Uuid;
  /** Trigger key. */
  readonly triggerKey: string;
  /** Raw idempotency key as received (trimmed). */
  readonly idempotencyKey?: string | null;
  /** Absolute deadline. */
  readonly timeoutAt?: Date | null;
}

/**
 * Cancellation, timeouts, deadlines and trigger idempotency.
 *
 * Termination precedence used by the engine: `timedOutAt` set ⇒ TimedOut; deadline passed ⇒
 * `markTimedOut` ⇒ TimedOut; `cancelRequested` ⇒ Cancelled.
 */
export interface FlowRunControlStore {
  /**
   * Upserts the control row. An update overwrites flow, trigger key, idempotency key and deadline
   * and preserves cancel/timeout state.
   */
  configureRun(input: ConfigureRunInput): Promise<void>;

  /** The control row, or `null`. */
  getRunControl(runId: Uuid): Promise<FlowRunControlRecord | null>;

  /**
   * Guarded: only when no cancel was requested yet, sets the flag, the reason and
   * `cancelRequestedAt`. Creates the row when missing.
   * @returns true iff this call made the transition (a second call keeps the first reason)
   */
  requestCancel(runId: Uuid, reason?: string | null): Promise<boolean>;

  /**
   * Guarded: the first call sets `timedOutAt`, forces `cancelRequested` (keeping an earlier
   * `cancelRequestedAt`) and sets the reason to `reason ?? existing ?? "Run timed out."`.
   * Creates the row when missing.
   * @returns true for the first call, false afterwards (`timedOutAt` is kept)
   */
  markTimedOut(runId: Uuid, reason?: string | null): Promise<boolean>;

  /**
   * Moves the deadline to `newTimeoutAt` and un-latches a timeout (clears `timedOutAt`, and the
   * cancel flag when it was set by that timeout) so the run can be retried manually.
   * @returns false when the run has no control row
   */
  extendDeadline(runId: Uuid, newTimeoutAt: Date): Promise<boolean>;

  /**
   * `Running` runs whose deadline is at or before the store's "now", earliest deadline first, at
   * most `limit` (clamped to `[1, 1000]`). Used by the engine's timeout sweeper.
   */
  getRunsPastDeadline(limit: number): Promise<OverdueRun[]>;

  /**
   * Looks up a registered idempotency key. `triggerKey` and `key` are trimmed and compared
   * case-insensitively. `null` when absent.
   */
  findRunIdByIdempotencyKey(flowId: Uuid, triggerKey: string, key: string): Promise<Uuid | null>;

  /**
   * Atomic insert-if-absent of `(flowId, norm(triggerKey), norm(key)) → runId`. First writer wins;
   * exactly one of N concurrent callers gets `true`, the rest `false`, never an error.
   */
  tryRegisterIdempotencyKey(flowId: Uuid, triggerKey: string, key: string, runId: Uuid): Promise<boolean>;
}

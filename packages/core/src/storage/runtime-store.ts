import type { ExpiredClaim, StepClaimRecord, Uuid } from './records.js';
import type { StepStatus } from './statuses.js';

/** A lease requested by {@link FlowRunRuntimeStore.tryClaimStep}. */
export interface ClaimLease {
  /** Unique per execution attempt (e.g. `<worker>:<uuid>`), so a takeover is distinguishable. */
  readonly owner: string;
  /** Lease length from the store's clock. */
  readonly durationMs: number;
}

/**
 * Step status map and execution claims ("execute once": only the claim winner runs a handler).
 *
 * Claims are leases: a claim records an owner and an expiry. A lapsed lease on a step that has
 * not reached a terminal status may be taken over; the previous owner's fenced writes then fail.
 */
export interface FlowRunRuntimeStore {
  /** Latest status per step row of the run (claims and ledger rows without a step row are absent). */
  getStepStatuses(runId: Uuid): Promise<Map<string, StepStatus>>;

  /** Keys holding a claim, including keys that have no step row yet. */
  getClaimedStepKeys(runId: Uuid): Promise<string[]>;

  /** The claim on one step, or `null`. */
  getStepClaim(runId: Uuid, stepKey: string): Promise<StepClaimRecord | null>;

  /**
   * Atomic claim. Wins when no claim exists, or when the existing lease has expired and the step
   * row is not terminal (`Succeeded`/`Failed`/`Skipped`). Without a lease the claim never expires
   * and has owner `""`. Exactly one of N concurrent callers gets `true`; the rest `false`, never
   * an error.
   */
  tryClaimStep(runId: Uuid, stepKey: string, lease?: ClaimLease): Promise<boolean>;

  /**
   * Extends the lease to `now + durationMs` if `owner` still holds it.
   * @returns false when the claim is gone or held by someone else
   */
  renewStepClaim(runId: Uuid, stepKey: string, owner: string, durationMs: number): Promise<boolean>;

  /**
   * Deletes the claim; idempotent. With `owner`, only a claim held by that owner is deleted (a
   * stale worker cannot release its successor's claim).
   */
  releaseStepClaim(runId: Uuid, stepKey: string, owner?: string): Promise<void>;

  /**
   * Claims whose lease has lapsed (by the store's clock) on runs that are `Running` and steps
   * that are not terminal, oldest expiry first, at most `limit`.
   */
  getExpiredClaims(limit: number): Promise<ExpiredClaim[]>;

  /**
   * Atomically writes a `Skipped` step row with `reason` and one `Skipped` attempt (no visible
   * `Running` state). The trace, when given, is stored on the step row and the attempt.
   */
  recordSkippedStep(
    runId: Uuid,
    stepKey: string,
    stepType: string,
    reason?: string | null,
    evaluationTraceJson?: string | null,
  ): Promise<void>;

  /** The run's status string, or `null` when the run is unknown. */
  getRunStatus(runId: Uuid): Promise<string | null>;
}

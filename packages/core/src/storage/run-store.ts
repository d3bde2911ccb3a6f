import type {
  DashboardStatistics,
  FlowRunPage,
  FlowRunRecord,
  RunTimeseriesBucket,
  Uuid,
} from './records.js';
import type { RunStatus, StepStatus, TerminalRunStatus, TimeseriesGranularity } from './statuses.js';

/** Input of {@link FlowRunStore.startRun}. */
export interface StartRunInput {
  /** Engine-generated run id. */
  readonly runId: Uuid;
  /** Flow id. */
  readonly flowId: Uuid;
  /** Flow name. */
  readonly flowName: string | null;
  /** Trigger key. */
  readonly triggerKey: string | null;
  /** Trigger payload as JSON text. */
  readonly triggerDataJson?: string | null;
  /** Runtime job id. */
  readonly jobId?: string | null;
  /** Lineage: the run this one re-runs. */
  readonly sourceRunId?: Uuid | null;
}

/**
 * Fencing for writes that finish a step attempt. With an `owner`, the write happens only while
 * the step's claim is held by that owner; a worker whose lease was taken over writes nothing.
 */
export interface ClaimFence {
  /** The claim owner the writer believes it is. */
  readonly owner?: string;
}

/** Input of {@link FlowRunStore.recordStepStart}. */
export interface StepStartInput extends ClaimFence {
  /** Run id (the run row need not exist). */
  readonly runId: Uuid;
  /** Step key. */
  readonly stepKey: string;
  /** Handler type name. */
  readonly stepType: string;
  /** Inputs as JSON text. */
  readonly inputJson?: string | null;
  /** Runtime job id. */
  readonly jobId?: string | null;
}

/** Input of {@link FlowRunStore.recordStepComplete}. */
export interface StepCompleteInput extends ClaimFence {
  /** Run id. */
  readonly runId: Uuid;
  /** Step key. */
  readonly stepKey: string;
  /** New status (any {@link StepStatus}, including `Pending`). */
  readonly status: StepStatus;
  /** Output as JSON text. */
  readonly outputJson?: string | null;
  /** Failure reason. */
  readonly errorMessage?: string | null;
}

/** Filters of {@link FlowRunStore.getRunsPage}. All are ANDed. */
export interface RunQuery {
  /** Exact flow id. */
  readonly flowId?: Uuid | null;
  /** Run status, compared case-insensitively; blank = any. */
  readonly status?: string | null;
  /**
   * Case-insensitive literal substring matched against run id, flow name, trigger key, status,
   * job id, and every step's and attempt's key, error and output. Never against trigger data or
   * inputs. `%`, `_`, `\` and `[` are literal. Blank = no search.
   */
  readonly search?: string | null;
  /** Rows to skip (negative ⇒ 0). */
  readonly skip?: number;
  /** Page size: default 50, clamped to `[0, 500]`; 0 returns an empty page with the total. */
  readonly take?: number;
}

/** Window of {@link FlowRunStore.getRunTimeseries}. */
export interface TimeseriesQuery {
  /** Bucket size. */
  readonly granularity: TimeseriesGranularity;
  /** Inclusive lower bound on `startedAt`; buckets start at `since` floored to the bucket size. */
  readonly since: Date;
  /** Exclusive upper bound. */
  readonly until: Date;
  /** Only runs of this flow. */
  readonly flowId?: Uuid | null;
}

/**
 * Run, step and attempt lifecycle, queries, and the dispatch ledger ("dispatch many": only the
 * first scheduler of a step enqueues it). Required of every backend.
 *
 * Updates and deletes of missing rows are silent no-ops unless stated otherwise.
 */
export interface FlowRunStore {
  /**
   * Inserts a `Running` run with `startedAt = now`.
   * @throws DuplicateRunError when the id exists (the existing run is untouched)
   */
  startRun(input: StartRunInput): Promise<FlowRunRecord>;

  /** Runs whose `sourceRunId` is this id, newest first; `[]` when none. */
  getDerivedRuns(sourceRunId: Uuid): Promise<FlowRunRecord[]>;

  /**
   * Atomically appends attempt N+1 (`Running`, gap-free and unique even when starts race) and
   * upserts the step row: `Running`, inputs and job id set, output/error/completion/trace cleared,
   * `startedAt = now`.
   * @returns false (and writes nothing) when fenced by an owner that no longer holds the claim
   */
  recordStepStart(input: StepStartInput): Promise<boolean>;

  /**
   * In one transaction updates the step row and its highest-numbered attempt (status, output,
   * error, `completedAt = now`). Never creates rows.
   * @returns false when nothing was written (no step row, or fenced out)
   */
  recordStepComplete(input: StepCompleteInput): Promise<boolean>;

  /** Unconditionally sets status and `completedAt = now` (kept for re-open/admin paths). */
  completeRun(runId: Uuid, status: RunStatus): Promise<void>;

  /**
   * Guarded completion: only a `Running` run moves to `status`. The first terminal status wins.
   * @returns true only for the caller whose write closed the run
   */
  completeRunIfActive(runId: Uuid, status: TerminalRunStatus): Promise<boolean>;

  /** Same as `getRunsPage(query).runs`. */
  getRuns(query?: RunQuery): Promise<FlowRunRecord[]>;

  /** Runs newest first (`startedAt` desc, then `id`), without steps, plus the total. */
  getRunsPage(query?: RunQuery): Promise<FlowRunPage>;

  /**
   * The run with its trigger headers and steps (by `startedAt` asc), each with attempts
   * (ascending; a step with no attempt rows gets a synthetic attempt #1). `null` when unknown.
   */
  getRunDetail(runId: Uuid): Promise<FlowRunRecord | null>;

  /** Dashboard counters; "today" is the current UTC day of the store's clock. */
  getStatistics(): Promise<DashboardStatistics>;

  /** Zero-filled buckets (at most 10 000) of runs started in the window. */
  getRunTimeseries(query: TimeseriesQuery): Promise<RunTimeseriesBucket[]>;

  /** Runs with status `Running`, newest first. `limit` bounds the result (default: all). */
  getActiveRuns(limit?: number): Promise<FlowRunRecord[]>;

  /**
   * Manual-retry reset, atomically: the step row (if any) back to `Running` with output, error and
   * completion cleared and `startedAt = now`; the run back to `Running` with `completedAt` null;
   * the step's claim and dispatch-ledger rows deleted. Attempts are kept.
   */
  retryStep(runId: Uuid, stepKey: string): Promise<void>;

  /**
   * For each key whose step row is `Skipped` with exactly the prerequisites-unmet reason: delete
   * the step row and its claim and ledger rows (attempts are kept). Other keys are untouched.
   * Idempotent.
   */
  resetCascadeSkippedDependents(runId: Uuid, stepKeys: readonly string[]): Promise<void>;

  /**
   * Dispatch ledger insert-if-absent. Under any number of concurrent callers on independent
   * connections exactly one gets `true`; the rest get `false`, never an error.
   */
  tryRecordDispatch(runId: Uuid, stepKey: string): Promise<boolean>;

  /** Sets the job id on an existing ledger row. Never creates a row. */
  annotateDispatch(runId: Uuid, stepKey: string, jobId: string): Promise<void>;

  /** Deletes the ledger row; idempotent. */
  releaseDispatch(runId: Uuid, stepKey: string): Promise<void>;

  /** Keys with a ledger row for the run; empty for unknown runs. */
  getDispatchedStepKeys(runId: Uuid): Promise<Set<string>>;
}

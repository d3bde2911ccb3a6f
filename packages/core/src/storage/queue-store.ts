import type { FlowEventInput, FlowRunControlRecord, Uuid } from './records.js';
import type { StartRunInput } from './run-store.js';
import type { TakenStep } from './taken-step.js';

export type { TakenStep } from './taken-step.js';

import type { RunTransaction } from './transaction/run-transaction.js';

/**
 * The durable step queue and the run transitions built on it (capability `queue`).
 *
 * Every piece of work the engine must do is a row of the dispatch ledger with a visible-at
 * time: a step is *queued* while its row has a visible-at, *done* once the row's visible-at is
 * cleared. Any replica takes due rows; taking a row is the step's execution lease (a claim with
 * an owner and an expiry). Nothing that must run lives only in a process's memory, so stopping
 * or killing a replica strands nothing.
 *
 * The three transitions of a step are each one atomic write:
 * - **trigger** ({@link FlowStepQueueStore.startRun}): idempotency key, run row, trigger data and
 *   headers, control row, events and the entry steps' rows — all or nothing;
 * - **start** ({@link FlowStepQueueStore.startStep}): attempt + `Running` step row + event, fenced
 *   by the claim;
 * - **complete** ({@link FlowStepQueueStore.transact}): outcome, outputs, events, successors and
 *   run closure, serialised with every other transaction of the same run.
 */
export interface FlowStepQueueStore {
  /**
   * Starts a run atomically. When `idempotencyKey` is set and already registered for
   * `(flowId, triggerKey)` (trimmed, compared case-insensitively), writes nothing and returns the
   * registered run with `duplicate: true`. Otherwise writes, in one transaction: the key, the run
   * row (`Running`), the trigger data (`__trigger:data`) and headers (`__trigger:headers`), the
   * control row (with `timeoutAt`), `events`, and one queued row per entry step (attempt 1,
   * visible now). A failure anywhere leaves nothing behind.
   * @throws DuplicateRunError when `run.runId` exists (nothing is written)
   */
  startRun(input: RunStartWrite): Promise<RunStartResult>;

  /**
   * Runs `work` as one atomic, serialised unit of work on a run. The backend locks the run (so
   * transactions of one run never interleave and each sees everything committed before it),
   * reads a {@link RunSnapshot}, lets `work` read and buffer writes through a
   * {@link RunTransaction}, then applies the buffered writes and commits. When `work` throws,
   * nothing is written and the error propagates. The snapshot's run is `null` for unknown runs.
   *
   * Backends implement it with `openRunTransaction` from `@floworch/core`: lock, read the
   * snapshot, call the work, apply `tx.writes` in the same transaction.
   */
  transact<T>(runId: Uuid, work: (tx: RunTransaction) => Promise<T>): Promise<T>;

  /**
   * Takes up to `limit` due rows (visible-at ≤ now, earliest first; ties run by run, in the
   * backend's run-id order, and by step key within a run) of `Running` runs for `owner`: each taken row's step gets a claim `{ owner, now + leaseMs }`
   * (inserted, or taken over when the previous lease lapsed and the step is not terminal) and its
   * visible-at moves to the lease expiry, so it reappears only if the lease lapses. Rows of runs
   * inside a {@link transact} are skipped, never waited for. Under any number of concurrent
   * takers on independent connections each row goes to exactly one.
   */
  take(request: TakeRequest): Promise<TakenStep[]>;

  /**
   * The start transition, fenced by the claim: while `owner` holds the step's claim, appends
   * attempt N+1 (`Running`), resets the step row to it (as `recordStepStart`) and stores `event`.
   * @returns false (writing nothing) when `owner` does not hold the claim
   */
  startStep(input: QueuedStepStart): Promise<boolean>;

  /**
   * Extends `owner`'s lease (claim and row) to `now + leaseMs` and reads the run's control row,
   * in one round trip. `held` is false when the claim is gone or someone else's.
   */
  renew(runId: Uuid, stepKey: string, owner: string, leaseMs: number): Promise<LeaseRenewal>;

  /**
   * Hands a taken step back: when `owner` holds the claim and the row is still queued, deletes the
   * claim and makes the row visible at `visibleAt` (default now), so any replica takes it at once.
   * A finished step (row done) is left alone: a late hand-back never re-opens work. Idempotent.
   * @returns whether the claim was held and released
   */
  release(runId: Uuid, stepKey: string, owner: string, visibleAt?: Date): Promise<boolean>;

  /**
   * Makes a queued, unclaimed row due now (a delivered signal wakes its parked step).
   * @returns false when the step has no queued row or someone holds a live claim on it
   */
  wake(runId: Uuid, stepKey: string): Promise<boolean>;

  /** Earliest visible-at among queued rows of `Running` runs, or `null` when none is queued. */
  nextVisibleAt(): Promise<Date | null>;

  /**
   * Optional (for runtimes that deliver steps themselves, such as a job queue): takes one named
   * row for `owner` when it is due and nobody holds a live claim on it — the claim and lease as
   * {@link take} writes them — in one atomic write. Never waits for a run inside a
   * {@link transact}: reports `locked` instead. Under any number of concurrent callers on
   * independent connections (and concurrent {@link take}s) the row goes to exactly one.
   */
  takeStep?(request: TakeStepRequest): Promise<TakeStepResult>;

  /**
   * Optional (for runtimes that deliver steps themselves): queued rows of `Running` runs with
   * visible-at ≤ `dueBefore`, earliest first (then run id and step key), at most `limit`. Rows
   * under a live lease are not due (their visible-at is the lease expiry); rows whose lease lapsed
   * are. Reads only: nothing is claimed or moved.
   */
  listDue?(request: ListDueRequest): Promise<QueuedStep[]>;

  /**
   * Optional: calls `onReady` whenever another process may have queued due work (PostgreSQL:
   * LISTEN/NOTIFY). Resolves with an unsubscribe function. Without it, consumers poll.
   */
  listen?(onReady: () => void): Promise<() => Promise<void>>;
}

/** Input of {@link FlowStepQueueStore.startRun}. */
export interface RunStartWrite {
  /** The run row. */
  readonly run: StartRunInput;
  /** Lower-cased header map, or null. */
  readonly triggerHeaders: Readonly<Record<string, string>> | null;
  /** Idempotency key (trimmed), or null. */
  readonly idempotencyKey: string | null;
  /** Absolute deadline, or null. */
  readonly timeoutAt: Date | null;
  /** Events to store with the run (e.g. `run.started`). */
  readonly events: readonly FlowEventInput[];
  /** Entry steps to queue, visible now, attempt 1. */
  readonly entrySteps: readonly string[];
  /**
   * When set, the entry rows are taken at once for this owner (claims with this lease), so the
   * caller can execute them without a round trip. Omit for clients that execute nothing.
   */
  readonly takeFor?: { readonly owner: string; readonly leaseMs: number; readonly limit: number };
}

/** Outcome of {@link FlowStepQueueStore.startRun}. */
export interface RunStartResult {
  /** The new run, or the existing one for a duplicate key. */
  readonly runId: Uuid;
  /** True when the idempotency key matched an earlier run (nothing was written). */
  readonly duplicate: boolean;
  /** Entry steps taken for `takeFor.owner` (empty without `takeFor` or for a duplicate). */
  readonly taken: readonly TakenStep[];
}

/** Input of {@link FlowStepQueueStore.take}. */
export interface TakeRequest {
  /**
   * Claim owner. Use a fresh one per take (e.g. `<instance>#<n>`): a step that this process takes
   * again after its own lease lapsed must not pass the fence of the stale execution.
   */
  readonly owner: string;
  /** Most rows to take (≥ 1). */
  readonly limit: number;
  /** Lease length from the store's clock. */
  readonly leaseMs: number;
}

/** Input of {@link FlowStepQueueStore.takeStep}. */
export interface TakeStepRequest {
  /** Run id. */
  readonly runId: Uuid;
  /** Step key of the row to take. */
  readonly stepKey: string;
  /** Claim owner (fresh per take, as for {@link TakeRequest.owner}). */
  readonly owner: string;
  /** Lease length from the store's clock. */
  readonly leaseMs: number;
}

/** Outcome of {@link FlowStepQueueStore.takeStep}. */
export type TakeStepResult =
  /** Taken: the claim is `owner`'s. */
  | { readonly kind: 'taken'; readonly step: TakenStep }
  /** Queued, nobody holds it, but not due before `visibleAt` (for `attempt`). */
  | { readonly kind: 'later'; readonly attempt: number; readonly visibleAt: Date }
  /** Someone else holds a live claim on it (it is executing elsewhere). */
  | { readonly kind: 'busy' }
  /** The run is inside a transaction (or the row is being taken): try again shortly. */
  | { readonly kind: 'locked' }
  /** Nothing to take: no queued row (done, unknown step or run), or the run is not `Running`. */
  | { readonly kind: 'gone' };

/** Input of {@link FlowStepQueueStore.listDue}. */
export interface ListDueRequest {
  /** Rows with visible-at at or before this time. */
  readonly dueBefore: Date;
  /** Most rows to return (≥ 1). */
  readonly limit: number;
}

/** A queued row as {@link FlowStepQueueStore.listDue} reports it. */
export interface QueuedStep {
  /** Run id. */
  readonly runId: Uuid;
  /** Flow id of the run. */
  readonly flowId: Uuid;
  /** Step key. */
  readonly stepKey: string;
  /** Automatic-retry attempt the row is for. */
  readonly attempt: number;
  /** When the row is due. */
  readonly visibleAt: Date;
}

/** Input of {@link FlowStepQueueStore.startStep}. */
export interface QueuedStepStart {
  /** Run id. */
  readonly runId: Uuid;
  /** Step key. */
  readonly stepKey: string;
  /** Claim owner; the write is fenced by it. */
  readonly owner: string;
  /** Handler type name. */
  readonly stepType: string;
  /** Inputs as JSON text. */
  readonly inputJson: string | null;
  /** Event stored with the start (e.g. `step.started`); none when omitted. */
  readonly event?: FlowEventInput;
  /** Job id recorded on the new attempt and the step row (a job system's delivery); default none. */
  readonly jobId?: string | null;
}

/** Outcome of {@link FlowStepQueueStore.renew}. */
export interface LeaseRenewal {
  /** Whether the owner still held the claim (and the lease was extended). */
  readonly held: boolean;
  /** The run's control row, or null. */
  readonly control: FlowRunControlRecord | null;
}

import type { Clock } from '../../time/index.js';
import type { FlowEventInput, FlowRunControlRecord, Uuid } from '../records.js';
import { isTerminalStepStatus, type StepStatus, type TerminalRunStatus } from '../statuses.js';
import { checkEventInput } from '../support/events.js';
import { toJsonText } from '../support/json.js';
import type { TakenStep } from '../taken-step.js';

/** A dispatch-ledger row as a transaction sees it. */
export interface QueueEntry {
  /** Automatic-retry attempt the row is for. */
  readonly attempt: number;
  /** When the row is (or was) due; `null` once the step is done with the queue. */
  readonly visibleAt: Date | null;
}

/** A claim as a transaction sees it. */
export interface ClaimState {
  /** Owner (`""` for a claim without lease). */
  readonly owner: string;
  /** Lease expiry; `null` for a claim that never expires. */
  readonly leaseExpiresAt: Date | null;
}

/** Everything of one run a transaction plans on, read under the run's lock. */
export interface RunSnapshot {
  /** Run id (lower-case). */
  readonly runId: Uuid;
  /** The run row, or null when the run does not exist. */
  readonly run: { readonly flowId: Uuid; readonly status: string } | null;
  /** Status per step row. */
  readonly steps: ReadonlyMap<string, StepStatus>;
  /** Every dispatch-ledger row of the run by step key. */
  readonly queue: ReadonlyMap<string, QueueEntry>;
  /** Every claim of the run by step key. */
  readonly claims: ReadonlyMap<string, ClaimState>;
  /** The run's control row, or null. */
  readonly control: FlowRunControlRecord | null;
}

/** A buffered write to a step row. */
export type StepWrite =
  /** Update the step row and its latest attempt (status, output, error, `completedAt = now`). */
  | {
      readonly kind: 'finish';
      readonly status: StepStatus;
      readonly outputJson: string | null;
      readonly errorMessage: string | null;
    }
  /** Append a `Skipped` attempt and upsert the step row to it (as `recordSkippedStep`). */
  | {
      readonly kind: 'skip';
      readonly stepType: string;
      readonly reason: string | null;
      readonly traceJson: string | null;
    }
  /**
   * Start a step taken in this transaction: append attempt N+1 (`Running`) and upsert the step row
   * to it (as `recordStepStart`), so the taker needs no separate start write.
   */
  | { readonly kind: 'start'; readonly stepType: string; readonly inputJson: string | null }
  /** Manual retry: step row back to `Running`, output/error/completion cleared, `startedAt = now`. */
  | { readonly kind: 'reset' };

/** A buffered write to a dispatch-ledger row (insert or update; rows are never deleted here). */
export interface QueueWrite {
  /** Automatic-retry attempt the row is for. */
  readonly attempt: number;
  /** When the row is due; `null` takes it out of the queue. */
  readonly visibleAt: Date | null;
}

/** A buffered write to a claim (insert or replace, or delete). */
export type ClaimWrite =
  | { readonly kind: 'put'; readonly owner: string; readonly leaseExpiresAt: Date | null }
  | { readonly kind: 'delete' };

/** What a transaction asks the backend to apply, atomically, before it commits. */
export interface RunWrites {
  /** Reopen (`Running`, `completedAt` cleared) or close the run (guarded: only from `Running`). */
  readonly run: { readonly reopen: true } | { readonly close: TerminalRunStatus } | null;
  /** Latch the run's timeout with this reason (as `markTimedOut`), or null. */
  readonly timedOut: string | null;
  /** Step-row writes, in the order they were made. */
  readonly steps: ReadonlyMap<string, StepWrite>;
  /** Ledger-row writes. Apply before claims (take locks ledger rows first). */
  readonly queue: ReadonlyMap<string, QueueWrite>;
  /** Claim writes. */
  readonly claims: ReadonlyMap<string, ClaimWrite>;
  /** Outputs-repository values as JSON text, by key. */
  readonly outputs: ReadonlyMap<string, string>;
  /** Events to append, in order (timestamps set). */
  readonly events: readonly FlowEventInput[];
  /** True when a row became due now and nobody took it: wake other consumers after commit. */
  readonly notify: boolean;
}

/** How a finished attempt leaves the queue. */
export type FinishNext =
  /** Done: the row leaves the queue; the claim stays (terminal steps keep theirs). */
  | { readonly kind: 'done' }
  /** Back in the queue at `visibleAt` for `attempt`; the claim is released. */
  | { readonly kind: 'requeue'; readonly visibleAt: Date; readonly attempt: number }
  /** Parked without a lease (a running ForEach): permanent claim, no queued row. */
  | { readonly kind: 'hold' };

/**
 * One serialised unit of work on a run: reads come from a snapshot taken under the run's lock
 * (kept current with this transaction's own writes), writes are buffered and applied by the
 * backend in one database transaction. Created by {@link openRunTransaction}.
 */
export class RunTransaction {
  /** Run id. */
  readonly runId: Uuid;
  /** Flow id of the run (`""` when the run does not exist). */
  readonly flowId: Uuid;
  /** Steps taken for a local owner by {@link enqueue}, to be executed after commit. */
  readonly taken: TakenStep[] = [];

  private readonly stepStatuses: Map<string, StepStatus>;
  private readonly queueRows: Map<string, QueueEntry>;
  private readonly claimRows: Map<string, ClaimState>;
  private status: string | null;
  private controlRow: FlowRunControlRecord | null;
  private readonly stepWrites = new Map<string, StepWrite>();
  private readonly queueWrites = new Map<string, QueueWrite>();
  private readonly claimWrites = new Map<string, ClaimWrite>();
  private readonly outputWrites = new Map<string, string>();
  private readonly eventWrites: FlowEventInput[] = [];
  private runWrite: RunWrites['run'] = null;
  private timedOutWrite: string | null = null;
  private notifyOthers = false;

  /**
   * @param snapshot state read under the run's lock
   * @param clock the store's clock
   * @param readStoredOutput reads a committed output value (parsed)
   */
  constructor(
    snapshot: RunSnapshot,
    private readonly clock: Clock,
    private readonly readStoredOutput: (key: string) => Promise<unknown>,
  ) {
    this.runId = snapshot.runId;
    this.flowId = snapshot.run?.flowId ?? '';
    this.status = snapshot.run?.status ?? null;
    this.stepStatuses = new Map(snapshot.steps);
    this.queueRows = new Map(snapshot.queue);
    this.claimRows = new Map(snapshot.claims);
    this.controlRow = snapshot.control;
  }

  /** The run's status (`null` when the run does not exist). */
  get runStatus(): string | null {
    return this.status;
  }

  /** The run's control row. */
  get control(): FlowRunControlRecord | null {
    return this.controlRow;
  }

  /** Current status per step row (including this transaction's writes). */
  get steps(): ReadonlyMap<string, StepStatus> {
    return this.stepStatuses;
  }

  /** Current ledger rows by step key. */
  get queue(): ReadonlyMap<string, QueueEntry> {
    return this.queueRows;
  }

  /** The claim on a step, if any. */
  claim(stepKey: string): ClaimState | undefined {
    return this.claimRows.get(stepKey);
  }

  /** Keys with a ledger row ("dispatched"). */
  dispatchedKeys(): Set<string> {
    return new Set(this.queueRows.keys());
  }

  /** Whether `owner` holds the step's claim. */
  holds(stepKey: string, owner: string): boolean {
    return this.claimRows.get(stepKey)?.owner === owner;
  }

  /** Whether someone holds a claim on the step that has not lapsed (a permanent one included). */
  isClaimedLive(stepKey: string): boolean {
    const claim = this.claimRows.get(stepKey);
    if (!claim) return false;
    return claim.leaseExpiresAt === null || claim.leaseExpiresAt.getTime() > this.clock.now().getTime();
  }

  /** Whether any row is still queued (due or not) or any step is `Running`/`Pending`. */
  hasWorkInFlight(): boolean {
    for (const entry of this.queueRows.values()) if (entry.visibleAt !== null) return true;
    for (const status of this.stepStatuses.values())
      if (status === 'Running' || status === 'Pending') return true;
    return false;
  }

  /** Whether some row is due now and nobody holds a live claim on it (work waiting for a taker). */
  hasDueRows(): boolean {
    const now = this.clock.now().getTime();
    for (const [key, entry] of this.queueRows) {
      if (entry.visibleAt !== null && entry.visibleAt.getTime() <= now && !this.isClaimedLive(key))
        return true;
    }
    return false;
  }

  /** A stored output (this transaction's writes first), parsed. */
  async readOutput(key: string): Promise<unknown> {
    const buffered = this.outputWrites.get(key);
    if (buffered !== undefined) return JSON.parse(buffered) as unknown;
    return this.readStoredOutput(key);
  }

  /**
   * Records an attempt's outcome. With `owner`, only while that owner holds the claim.
   * @returns false (writing nothing) when fenced out or the step has no row
   */
  finish(
    stepKey: string,
    outcome: { status: StepStatus; outputJson: string | null; errorMessage: string | null; owner?: string },
    next: FinishNext,
  ): boolean {
    if (outcome.owner !== undefined && !this.holds(stepKey, outcome.owner)) return false;
    if (!this.stepStatuses.has(stepKey)) return false;
    this.stepWrites.set(stepKey, {
      kind: 'finish',
      status: outcome.status,
      outputJson: outcome.outputJson,
      errorMessage: outcome.errorMessage,
    });
    this.stepStatuses.set(stepKey, outcome.status);
    const attempt = this.queueRows.get(stepKey)?.attempt ?? 1;
    if (next.kind === 'done') {
      this.putQueue(stepKey, attempt, null);
    } else if (next.kind === 'requeue') {
      this.putQueue(stepKey, next.attempt, next.visibleAt);
      this.deleteClaim(stepKey);
      if (next.visibleAt.getTime() <= this.clock.now().getTime()) this.notifyOthers = true;
    } else {
      this.putQueue(stepKey, attempt, null);
      this.putClaim(stepKey, '', null);
    }
    return true;
  }

  /**
   * Records a step `Skipped` and takes it out of the queue for good (permanent claim). Refused
   * when someone else holds a live claim (unless it is `owner`, or `force`).
   */
  skip(
    stepKey: string,
    skip: {
      stepType: string;
      reason: string | null;
      traceJson?: string | null;
      owner?: string;
      force?: boolean;
    },
  ): boolean {
    const status = this.stepStatuses.get(stepKey);
    if (status !== undefined && isTerminalStepStatus(status)) return false;
    const mine = skip.owner !== undefined && this.holds(stepKey, skip.owner);
    if (!mine && !skip.force && this.isClaimedLive(stepKey)) return false;
    this.stepWrites.set(stepKey, {
      kind: 'skip',
      stepType: skip.stepType,
      reason: skip.reason,
      traceJson: skip.traceJson?.trim() ? skip.traceJson : null,
    });
    this.stepStatuses.set(stepKey, 'Skipped');
    this.putQueue(stepKey, this.queueRows.get(stepKey)?.attempt ?? 1, null);
    this.putClaim(stepKey, '', null);
    return true;
  }

  /**
   * Queues a step (insert-if-absent on the ledger). With `takeFor`, the row is taken at once for
   * that owner and reported in {@link taken}.
   * @returns false when the step already has a ledger row
   */
  enqueue(
    stepKey: string,
    options: {
      visibleAt?: Date;
      attempt?: number;
      takeFor?: { owner: string; leaseMs: number };
      /** With `takeFor`: also start the step here (attempt + `Running` row); see {@link TakenStep.started}. */
      start?: { stepType: string; inputJson: string | null };
    } = {},
  ): boolean {
    if (this.queueRows.has(stepKey)) return false;
    const now = this.clock.now();
    const visibleAt = options.visibleAt ?? now;
    const attempt = options.attempt ?? 1;
    const due = visibleAt.getTime() <= now.getTime();
    if (options.takeFor && due && !this.isClaimedLive(stepKey)) {
      const expires = new Date(now.getTime() + options.takeFor.leaseMs);
      this.putQueue(stepKey, attempt, expires);
      this.putClaim(stepKey, options.takeFor.owner, expires);
      if (options.start) {
        this.stepWrites.set(stepKey, { kind: 'start', ...options.start });
        this.stepStatuses.set(stepKey, 'Running');
      }
      this.taken.push({
        ...(options.start ? { started: true } : {}),
        runId: this.runId,
        flowId: this.flowId,
        stepKey,
        owner: options.takeFor.owner,
        attempt,
        visibleAt,
        leaseExpiresAt: expires,
        control: this.controlRow,
      });
    } else {
      this.putQueue(stepKey, attempt, visibleAt);
      if (due) this.notifyOthers = true;
    }
    return true;
  }

  /** Makes a queued row due now (no-op when the row is done or claimed live). */
  wake(stepKey: string): boolean {
    const entry = this.queueRows.get(stepKey);
    if (!entry || entry.visibleAt === null || this.isClaimedLive(stepKey)) return false;
    this.putQueue(stepKey, entry.attempt, this.clock.now());
    this.notifyOthers = true;
    return true;
  }

  /**
   * Puts a step's row back in the queue, due at `visibleAt` (default now), keeping its attempt and
   * dropping a lapsed claim (repairs a step in flight whose row was lost). Refused while someone
   * holds a live claim.
   */
  reschedule(stepKey: string, visibleAt?: Date): boolean {
    if (this.isClaimedLive(stepKey)) return false;
    const at = visibleAt ?? this.clock.now();
    this.deleteClaim(stepKey);
    this.putQueue(stepKey, this.queueRows.get(stepKey)?.attempt ?? 1, at);
    if (at.getTime() <= this.clock.now().getTime()) this.notifyOthers = true;
    return true;
  }

  /**
   * Manual retry of a step: step row reset to `Running`, claim released, row queued due now for
   * attempt 1; reopens the run when it was closed.
   */
  retry(stepKey: string): void {
    if (this.stepStatuses.has(stepKey)) {
      this.stepWrites.set(stepKey, { kind: 'reset' });
      this.stepStatuses.set(stepKey, 'Running');
    }
    this.deleteClaim(stepKey);
    this.putQueue(stepKey, 1, this.clock.now());
    this.notifyOthers = true;
    if (this.status !== null && this.status !== 'Running') {
      this.runWrite = { reopen: true };
      this.status = 'Running';
    }
  }

  /** Stores a value in the outputs repository (JSON text; `undefined` as `null`). */
  saveOutput(key: string, value: unknown, what = `output '${key}'`): void {
    this.outputWrites.set(key, toJsonText(value, what));
  }

  /** Appends an event (timestamp defaults to now). */
  event(event: FlowEventInput): void {
    checkEventInput(event);
    this.eventWrites.push({ ...event, timestamp: event.timestamp ?? this.clock.now() });
  }

  /** Latches the run's timeout (first reason wins) in this transaction. */
  markTimedOut(reason: string): void {
    if (this.controlRow?.timedOutAt) return;
    this.timedOutWrite = reason;
    const now = this.clock.now();
    const base = this.controlRow;
    this.controlRow = {
      runId: this.runId,
      flowId: base?.flowId ?? this.flowId,
      triggerKey: base?.triggerKey ?? '',
      idempotencyKey: base?.idempotencyKey ?? null,
      createdAt: base?.createdAt ?? now,
      timeoutAt: base?.timeoutAt ?? null,
      cancelRequested: true,
      // As stored: the timeout's reason replaces an earlier cancel reason.
      cancelReason: reason,
      cancelRequestedAt: base?.cancelRequestedAt ?? now,
      timedOutAt: now,
    };
  }

  /**
   * Closes the run with `status` when it is `Running` (first terminal status wins).
   * @returns whether this transaction closes it
   */
  close(status: TerminalRunStatus): boolean {
    if (this.status !== 'Running') return false;
    this.runWrite = { close: status };
    this.status = status;
    return true;
  }

  /** The buffered writes, for the backend to apply. */
  get writes(): RunWrites {
    return {
      run: this.runWrite,
      timedOut: this.timedOutWrite,
      steps: this.stepWrites,
      queue: this.queueWrites,
      claims: this.claimWrites,
      outputs: this.outputWrites,
      events: this.eventWrites,
      // Due rows a taker skipped while this transaction held the run need a wake-up too.
      notify: this.notifyOthers || this.hasDueRows(),
    };
  }

  private putQueue(stepKey: string, attempt: number, visibleAt: Date | null): void {
    this.queueRows.set(stepKey, { attempt, visibleAt });
    this.queueWrites.set(stepKey, { attempt, visibleAt });
  }

  private putClaim(stepKey: string, owner: string, leaseExpiresAt: Date | null): void {
    this.claimRows.set(stepKey, { owner, leaseExpiresAt });
    this.claimWrites.set(stepKey, { kind: 'put', owner, leaseExpiresAt });
  }

  private deleteClaim(stepKey: string): void {
    if (!this.claimRows.has(stepKey) && !this.claimWrites.has(stepKey)) return;
    this.claimRows.delete(stepKey);
    this.claimWrites.set(stepKey, { kind: 'delete' });
  }
}

/**
 * Runs `work` over a transaction built from `snapshot` and returns its result with the writes
 * to apply. Backends call it between locking the run and committing.
 *
 * @example
 * // inside the backend's database transaction, after locking the run row:
 * const { result, writes } = await openRunTransaction(snapshot, clock, readOutput, work);
 * await applyWrites(trx, writes);
 */
export async function openRunTransaction<T>(
  snapshot: RunSnapshot,
  clock: Clock,
  readOutput: (key: string) => Promise<unknown>,
  work: (tx: RunTransaction) => Promise<T>,
): Promise<{ result: T; writes: RunWrites }> {
  const tx = new RunTransaction(snapshot, clock, readOutput);
  const result = await work(tx);
  return { result, writes: tx.writes };
}

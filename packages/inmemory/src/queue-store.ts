import {
  type Clock,
  DuplicateRunError,
  type FlowEventInput,
  type FlowStepQueueStore,
  isTerminalStepStatus,
} from '@floworch/core';
import {
  checkEventInput,
  EMPTY_UUID,
  fromJsonText,
  type LeaseRenewal,
  type ListDueRequest,
  lowerCaseHeaders,
  OutputKeys,
  openRunTransaction,
  parseStepStatus,
  type QueuedStep,
  type QueuedStepStart,
  type RunSnapshot,
  type RunStartResult,
  type RunStartWrite,
  type RunTransaction,
  type RunWrites,
  type TakenStep,
  type TakeRequest,
  type TakeStepRequest,
  type TakeStepResult,
  toJsonText,
} from '@floworch/core/backend';
import { controlRecord, idempotencyKey } from './control-store.js';
import { compareOrdinal } from './order.js';
import { appendRunningAttempt, appendSkippedAttempt, insertRunRow } from './run-store.js';
import { compositeKey, type MemoryState, type RunData } from './state.js';

/**
 * In-memory {@link FlowStepQueueStore}. Peers sharing one {@link MemoryState} behave like
 * processes on one database: a run inside a transaction is locked for all of them (takers skip
 * it), and every transition applies its writes in one synchronous stretch, so it is atomic.
 */
export class InMemoryQueueStore implements FlowStepQueueStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  async startRun(input: RunStartWrite): Promise<RunStartResult> {
    const run = input.run;
    const runId = run.runId.toLowerCase();
    const flowId = run.flowId.toLowerCase();
    const triggerKey = run.triggerKey ?? '';
    // Validate everything that can fail before the first write: all or nothing.
    const headersJson =
      input.triggerHeaders === null
        ? null
        : // Stryker disable next-line StringLiteral: error messages are not part of the contract.
          toJsonText(lowerCaseHeaders(input.triggerHeaders), 'trigger headers');
    const dataJson = run.triggerDataJson ?? 'null';
    fromJsonText(dataJson);
    for (const event of input.events) checkEventInput(event);
    if (input.idempotencyKey) {
      const existing = this.state.idempotency.get(idempotencyKey(flowId, triggerKey, input.idempotencyKey));
      if (existing) return { runId: existing.runId, duplicate: true, taken: [] };
    }
    if (this.state.runs.has(runId)) throw new DuplicateRunError(runId);

    const now = this.now();
    insertRunRow(this.state, run, now);
    const data = this.state.runData(runId);
    if (input.idempotencyKey) {
      const composite = idempotencyKey(flowId, triggerKey, input.idempotencyKey);
      this.state.idempotency.set(composite, { runId, createdAt: now });
      data.idempotencyKeys.add(composite);
    }
    data.outputs.set(OutputKeys.triggerData, dataJson);
    if (headersJson !== null) data.outputs.set(OutputKeys.triggerHeaders, headersJson);
    data.control = {
      flowId,
      triggerKey,
      idempotencyKey: input.idempotencyKey?.trim() || null,
      createdAt: now,
      timeoutAt: input.timeoutAt ? input.timeoutAt.getTime() : null,
      cancelRequested: false,
      cancelReason: null,
      cancelRequestedAt: null,
      timedOutAt: null,
    };
    for (const event of input.events) this.appendEvent(runId, event);

    const taken: TakenStep[] = [];
    const takeFor = input.takeFor;
    for (const stepKey of input.entrySteps) {
      // A row taken here is visible again only when its lease lapses, like any taken row.
      let visibleAt = now;
      if (takeFor && taken.length < takeFor.limit) {
        visibleAt = now + takeFor.leaseMs;
        data.claims.set(stepKey, { owner: takeFor.owner, claimedAt: now, leaseExpiresAt: visibleAt });
        taken.push(this.takenStep(runId, flowId, stepKey, takeFor.owner, 1, now, visibleAt, data));
      }
      data.dispatches.set(stepKey, { dispatchedAt: now, jobId: null, visibleAt, attempt: 1 });
      this.state.queued.set(compositeKey(runId, stepKey), { runId, stepKey });
    }
    if (taken.length < input.entrySteps.length) this.notify();
    return { runId, duplicate: false, taken };
  }

  async transact<T>(runId: string, work: (tx: RunTransaction) => Promise<T>): Promise<T> {
    const id = runId.toLowerCase();
    return this.withRunLock(id, async () => {
      const { result, writes } = await openRunTransaction(
        this.snapshot(id),
        this.clock,
        async (key) => fromJsonText(this.state.peekRunData(id)?.outputs.get(key) ?? null),
        work,
      );
      this.apply(id, writes);
      return result;
    });
  }

  async take(request: TakeRequest): Promise<TakenStep[]> {
    const limit = Math.max(0, Math.trunc(request.limit));
    if (limit === 0) return [];
    const now = this.now();
    const due: Array<{ runId: string; stepKey: string; visibleAt: number }> = [];
    for (const [key, ref] of this.state.queued) {
      const row = this.state.peekRunData(ref.runId)?.dispatches.get(ref.stepKey);
      if (!row || row.visibleAt === null) {
        this.state.queued.delete(key);
        continue;
      }
      if (row.visibleAt > now) continue;
      if (this.state.runs.get(ref.runId)?.status !== 'Running') continue;
      if (this.state.lockedRuns.has(ref.runId)) continue;
      due.push({ ...ref, visibleAt: row.visibleAt });
    }
    due.sort(
      (a, b) =>
        a.visibleAt - b.visibleAt || compareOrdinal(a.runId, b.runId) || compareOrdinal(a.stepKey, b.stepKey),
    );
    const taken: TakenStep[] = [];
    const expires = now + request.leaseMs;
    for (const { runId, stepKey, visibleAt } of due) {
      if (taken.length >= limit) break;
      const data = this.state.peekRunData(runId)!;
      const row = data.dispatches.get(stepKey)!;
      const claim = data.claims.get(stepKey);
      const step = data.steps.get(stepKey);
      const lapsed = !claim || (claim.leaseExpiresAt !== null && claim.leaseExpiresAt <= now);
      if (!lapsed || (claim && step && isTerminalStepStatus(step.status))) {
        // Someone holds it (or it finished): look again once that lease could have lapsed.
        row.visibleAt = now + request.leaseMs;
        continue;
      }
      data.claims.set(stepKey, { owner: request.owner, claimedAt: now, leaseExpiresAt: expires });
      row.visibleAt = expires;
      const flowId = this.state.runs.get(runId)!.flowId;
      taken.push(
        this.takenStep(runId, flowId, stepKey, request.owner, row.attempt, visibleAt, expires, data),
      );
    }
    return taken;
  }

  async takeStep(request: TakeStepRequest): Promise<TakeStepResult> {
    const runId = request.runId.toLowerCase();
    const run = this.state.runs.get(runId);
    const data = this.state.peekRunData(runId);
    const row = data?.dispatches.get(request.stepKey);
    if (run?.status !== 'Running' || !data || !row || row.visibleAt === null) return { kind: 'gone' };
    if (this.state.lockedRuns.has(runId)) return { kind: 'locked' };
    const now = this.now();
    const claim = data.claims.get(request.stepKey);
    const live = !!claim && (claim.leaseExpiresAt === null || claim.leaseExpiresAt > now);
    if (live) return { kind: 'busy' };
    if (row.visibleAt > now)
      return { kind: 'later', attempt: row.attempt, visibleAt: new Date(row.visibleAt) };
    const step = data.steps.get(request.stepKey);
    if (claim && step && isTerminalStepStatus(step.status)) return { kind: 'busy' };
    const expires = now + request.leaseMs;
    const visibleAt = row.visibleAt;
    data.claims.set(request.stepKey, { owner: request.owner, claimedAt: now, leaseExpiresAt: expires });
    row.visibleAt = expires;
    return {
      kind: 'taken',
      step: this.takenStep(
        runId,
        run.flowId,
        request.stepKey,
        request.owner,
        row.attempt,
        visibleAt,
        expires,
        data,
      ),
    };
  }

  async listDue(request: ListDueRequest): Promise<QueuedStep[]> {
    const limit = Math.max(0, Math.trunc(request.limit));
    if (limit === 0) return [];
    const before = request.dueBefore.getTime();
    const due: QueuedStep[] = [];
    for (const ref of this.state.queued.values()) {
      const row = this.state.peekRunData(ref.runId)?.dispatches.get(ref.stepKey);
      if (!row || row.visibleAt === null || row.visibleAt > before) continue;
      const run = this.state.runs.get(ref.runId);
      if (run?.status !== 'Running') continue;
      due.push({
        runId: ref.runId,
        flowId: run.flowId,
        stepKey: ref.stepKey,
        attempt: row.attempt,
        visibleAt: new Date(row.visibleAt),
      });
    }
    due.sort(
      (a, b) =>
        a.visibleAt.getTime() - b.visibleAt.getTime() ||
        compareOrdinal(a.runId, b.runId) ||
        compareOrdinal(a.stepKey, b.stepKey),
    );
    return due.slice(0, limit);
  }

  async startStep(input: QueuedStepStart): Promise<boolean> {
    const data = this.state.peekRunData(input.runId);
    if (!data || data.claims.get(input.stepKey)?.owner !== input.owner) return false;
    const start = {
      stepType: input.stepType,
      inputJson: input.inputJson ?? null,
      jobId: input.jobId ?? null,
    };
    appendRunningAttempt(data, input.stepKey, start, this.now());
    if (input.event) this.appendEvent(input.runId, { stepKey: input.stepKey, ...input.event });
    return true;
  }

  async renew(runId: string, stepKey: string, owner: string, leaseMs: number): Promise<LeaseRenewal> {
    const data = this.state.peekRunData(runId);
    const control = data?.control ? controlRecord(runId, data.control) : null;
    const claim = data?.claims.get(stepKey);
    if (!data || !claim || claim.owner !== owner) return { held: false, control };
    const expires = this.now() + leaseMs;
    claim.leaseExpiresAt = expires;
    const row = data.dispatches.get(stepKey);
    if (row && row.visibleAt !== null) row.visibleAt = expires;
    return { held: true, control };
  }

  async release(runId: string, stepKey: string, owner: string, visibleAt?: Date): Promise<boolean> {
    const data = this.state.peekRunData(runId);
    if (!data || data.claims.get(stepKey)?.owner !== owner) return false;
    // Only a step still in the queue is handed back: a finished one keeps its claim.
    const row = data.dispatches.get(stepKey);
    if (!row || row.visibleAt === null) return false;
    data.claims.delete(stepKey);
    // Still indexed in `queued`: a row leaves that index only once its visible-at is cleared.
    row.visibleAt = visibleAt?.getTime() ?? this.now();
    this.notify();
    return true;
  }

  async wake(runId: string, stepKey: string): Promise<boolean> {
    const data = this.state.peekRunData(runId);
    const row = data?.dispatches.get(stepKey);
    if (!data || !row || row.visibleAt === null) return false;
    const claim = data.claims.get(stepKey);
    const now = this.now();
    if (claim && (claim.leaseExpiresAt === null || claim.leaseExpiresAt > now)) return false;
    row.visibleAt = now;
    this.notify();
    return true;
  }

  async nextVisibleAt(): Promise<Date | null> {
    let earliest: number | null = null;
    for (const ref of this.state.queued.values()) {
      const row = this.state.peekRunData(ref.runId)?.dispatches.get(ref.stepKey);
      if (!row || row.visibleAt === null) continue;
      if (this.state.runs.get(ref.runId)?.status !== 'Running') continue;
      if (earliest === null || row.visibleAt < earliest) earliest = row.visibleAt;
    }
    return earliest === null ? null : new Date(earliest);
  }

  async listen(onReady: () => void): Promise<() => Promise<void>> {
    this.state.queueListeners.add(onReady);
    return async () => {
      this.state.queueListeners.delete(onReady);
    };
  }

  /** Serialises work on one run across every peer of the state (a row lock's stand-in). */
  private async withRunLock<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.state.lockedRuns.get(runId);
    let unlock!: () => void;
    const mine = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    const tail = (previous ?? Promise.resolve()).then(() => mine);
    this.state.lockedRuns.set(runId, tail);
    if (previous) await previous;
    try {
      return await work();
    } finally {
      unlock();
      if (this.state.lockedRuns.get(runId) === tail) this.state.lockedRuns.delete(runId);
    }
  }

  private snapshot(runId: string): RunSnapshot {
    const run = this.state.runs.get(runId);
    const data = this.state.peekRunData(runId);
    const steps = new Map<string, ReturnType<typeof parseStepStatus>>();
    const queue = new Map<string, { attempt: number; visibleAt: Date | null }>();
    const claims = new Map<string, { owner: string; leaseExpiresAt: Date | null }>();
    for (const step of data?.steps.values() ?? []) steps.set(step.stepKey, parseStepStatus(step.status));
    for (const [key, row] of data?.dispatches ?? []) {
      queue.set(key, {
        attempt: row.attempt,
        visibleAt: row.visibleAt === null ? null : new Date(row.visibleAt),
      });
    }
    for (const [key, claim] of data?.claims ?? []) {
      claims.set(key, {
        owner: claim.owner,
        leaseExpiresAt: claim.leaseExpiresAt === null ? null : new Date(claim.leaseExpiresAt),
      });
    }
    return {
      runId,
      run: run ? { flowId: run.flowId, status: run.status } : null,
      steps,
      queue,
      claims,
      control: data?.control ? controlRecord(runId, data.control) : null,
    };
  }

  /** Applies a transaction's writes in one synchronous stretch. */
  private apply(runId: string, writes: RunWrites): void {
    const now = this.now();
    const data = this.state.runData(runId);
    const run = this.state.runs.get(runId);
    if (run && writes.run) {
      if ('reopen' in writes.run) {
        this.state.setRunStatus(run, 'Running');
        run.completedAt = null;
      } else {
        // The transaction only closes a run it saw Running under this lock.
        this.state.setRunStatus(run, writes.run.close);
        run.completedAt = now;
      }
    }
    if (writes.timedOut !== null) {
      // The transaction latches only a timeout it saw unlatched under this lock.
      const base = data.control ?? {
        flowId: run?.flowId ?? EMPTY_UUID,
        triggerKey: '',
        idempotencyKey: null,
        createdAt: now,
        timeoutAt: null,
        cancelRequestedAt: null,
      };
      data.control = {
        ...base,
        cancelRequested: true,
        cancelReason: writes.timedOut,
        cancelRequestedAt: base.cancelRequestedAt ?? now,
        timedOutAt: now,
      };
    }
    for (const [stepKey, write] of writes.queue) {
      const visibleAt = write.visibleAt?.getTime() ?? null;
      const row = data.dispatches.get(stepKey);
      if (row) {
        row.attempt = write.attempt;
        row.visibleAt = visibleAt;
      } else {
        data.dispatches.set(stepKey, { dispatchedAt: now, jobId: null, visibleAt, attempt: write.attempt });
      }
      if (visibleAt !== null) this.state.queued.set(compositeKey(runId, stepKey), { runId, stepKey });
    }
    for (const [stepKey, write] of writes.claims) {
      if (write.kind === 'delete') data.claims.delete(stepKey);
      else
        data.claims.set(stepKey, {
          owner: write.owner,
          claimedAt: now,
          leaseExpiresAt: write.leaseExpiresAt?.getTime() ?? null,
        });
    }
    for (const [stepKey, write] of writes.steps) this.applyStep(data, stepKey, write, now);
    for (const [key, text] of writes.outputs) data.outputs.set(key, text);
    for (const event of writes.events) this.appendEvent(runId, event);
    if (writes.notify) this.notify();
  }

  private applyStep(
    data: RunData,
    stepKey: string,
    write: RunWrites['steps'] extends ReadonlyMap<string, infer W> ? W : never,
    now: number,
  ): void {
    if (write.kind === 'start') {
      appendRunningAttempt(
        data,
        stepKey,
        { stepType: write.stepType, inputJson: write.inputJson, jobId: null },
        now,
      );
      return;
    }
    if (write.kind === 'reset') {
      const step = data.steps.get(stepKey);
      if (step)
        Object.assign(step, {
          status: 'Running',
          outputJson: null,
          errorMessage: null,
          completedAt: null,
          startedAt: now,
        });
      return;
    }
    if (write.kind === 'finish') {
      const patch = {
        status: write.status,
        outputJson: write.outputJson,
        errorMessage: write.errorMessage,
        completedAt: now,
      };
      const step = data.steps.get(stepKey);
      if (!step) return;
      Object.assign(step, patch);
      const attempts = data.attempts.get(stepKey);
      const latest = attempts?.[attempts.length - 1];
      if (latest) Object.assign(latest, patch);
      return;
    }
    appendSkippedAttempt(data, stepKey, write, now);
  }

  private appendEvent(runId: string, event: FlowEventInput): void {
    this.state.appendEvent(runId, {
      timestamp: (event.timestamp ?? this.clock.now()).getTime(),
      type: event.type,
      stepKey: event.stepKey ?? null,
      message: event.message ?? null,
    });
  }

  private takenStep(
    runId: string,
    flowId: string,
    stepKey: string,
    owner: string,
    attempt: number,
    visibleAt: number,
    expires: number,
    data: RunData,
  ): TakenStep {
    return {
      runId,
      flowId,
      stepKey,
      owner,
      attempt,
      visibleAt: new Date(visibleAt),
      leaseExpiresAt: new Date(expires),
      control: data.control ? controlRecord(runId, data.control) : null,
    };
  }

  /** Wakes listening consumers on a later tick (after the caller's own bookkeeping). */
  private notify(): void {
    if (this.state.queueListeners.size === 0) return;
    queueMicrotask(() => {
      for (const listener of this.state.queueListeners) listener();
    });
  }
}

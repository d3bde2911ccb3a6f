import type { Clock, FlowRunControlRecord, FlowRunControlStore, OverdueRun } from '@floworch/core';
import type { ConfigureRunInput } from '@floworch/core/backend';
import { EMPTY_UUID, normalizeIdempotencyPart } from '@floworch/core/backend';
import { toDate, toDateOrNull } from './copy.js';
import { compareOrdinal } from './order.js';
import { type ControlRow, compositeKey, type MemoryState } from './state.js';

const DEFAULT_TIMEOUT_REASON = 'Run timed out.';

/** In-memory {@link FlowRunControlStore}: cancel, timeouts, deadlines, idempotency keys. */
export class InMemoryControlStore implements FlowRunControlStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  /** The control row, created (with empty flow and trigger) when missing. */
  private ensureRow(runId: string): ControlRow {
    const data = this.state.runData(runId);
    data.control ??= {
      flowId: EMPTY_UUID,
      triggerKey: '',
      idempotencyKey: null,
      createdAt: this.clock.now().getTime(),
      timeoutAt: null,
      cancelRequested: false,
      cancelReason: null,
      cancelRequestedAt: null,
      timedOutAt: null,
    };
    return data.control;
  }

  async configureRun(input: ConfigureRunInput): Promise<void> {
    const row = this.ensureRow(input.runId);
    row.flowId = input.flowId.toLowerCase();
    row.triggerKey = input.triggerKey;
    row.idempotencyKey = input.idempotencyKey?.trim() || null;
    row.timeoutAt = input.timeoutAt ? input.timeoutAt.getTime() : null;
  }

  async getRunControl(runId: string): Promise<FlowRunControlRecord | null> {
    const row = this.state.peekRunData(runId)?.control;
    return row ? controlRecord(runId, row) : null;
  }

  async requestCancel(runId: string, reason?: string | null): Promise<boolean> {
    const row = this.ensureRow(runId);
    if (row.cancelRequested) return false;
    row.cancelRequested = true;
    row.cancelReason = reason ?? null;
    row.cancelRequestedAt ??= this.clock.now().getTime();
    return true;
  }

  async markTimedOut(runId: string, reason?: string | null): Promise<boolean> {
    const row = this.ensureRow(runId);
    if (row.timedOutAt !== null) return false;
    const now = this.clock.now().getTime();
    row.timedOutAt = now;
    row.cancelRequested = true;
    row.cancelRequestedAt ??= now;
    row.cancelReason = reason ?? row.cancelReason ?? DEFAULT_TIMEOUT_REASON;
    return true;
  }

  async extendDeadline(runId: string, newTimeoutAt: Date): Promise<boolean> {
    const row = this.state.peekRunData(runId)?.control;
    if (!row) return false;
    row.timeoutAt = newTimeoutAt.getTime();
    if (row.timedOutAt !== null) {
      // The cancel flag came from the timeout itself only when both were stamped together.
      if (row.cancelRequestedAt === row.timedOutAt) {
        row.cancelRequested = false;
        row.cancelReason = null;
        row.cancelRequestedAt = null;
      }
      row.timedOutAt = null;
    }
    return true;
  }

  async getRunsPastDeadline(limit: number): Promise<OverdueRun[]> {
    const now = this.clock.now().getTime();
    const found: OverdueRun[] = [];
    for (const runId of this.state.active) {
      const control = this.state.peekRunData(runId)?.control;
      if (!control || control.timeoutAt === null || control.timeoutAt > now) continue;
      found.push({ runId, flowId: this.state.runs.get(runId)!.flowId, timeoutAt: toDate(control.timeoutAt) });
    }
    found.sort((a, b) => a.timeoutAt.getTime() - b.timeoutAt.getTime() || compareOrdinal(a.runId, b.runId));
    // The guard has clamped the limit already.
    return found.slice(0, limit);
  }

  async findRunIdByIdempotencyKey(flowId: string, triggerKey: string, key: string): Promise<string | null> {
    return this.state.idempotency.get(idempotencyKey(flowId, triggerKey, key))?.runId ?? null;
  }

  async tryRegisterIdempotencyKey(
    flowId: string,
    triggerKey: string,
    key: string,
    runId: string,
  ): Promise<boolean> {
    const composite = idempotencyKey(flowId, triggerKey, key);
    if (this.state.idempotency.has(composite)) return false;
    const id = runId.toLowerCase();
    this.state.idempotency.set(composite, { runId: id, createdAt: this.clock.now().getTime() });
    this.state.runData(id).idempotencyKeys.add(composite);
    return true;
  }
}

/** The composite map key of an idempotency registration (parts normalised). */
export function idempotencyKey(flowId: string, triggerKey: string, key: string): string {
  return compositeKey(
    flowId.toLowerCase(),
    normalizeIdempotencyPart(triggerKey),
    normalizeIdempotencyPart(key),
  );
}

/** A copy of a control row as the public record. */
export function controlRecord(runId: string, row: ControlRow): FlowRunControlRecord {
  return {
    runId: runId.toLowerCase(),
    flowId: row.flowId,
    triggerKey: row.triggerKey,
    idempotencyKey: row.idempotencyKey,
    createdAt: toDate(row.createdAt),
    timeoutAt: toDateOrNull(row.timeoutAt),
    cancelRequested: row.cancelRequested,
    cancelReason: row.cancelReason,
    cancelRequestedAt: toDateOrNull(row.cancelRequestedAt),
    timedOutAt: toDateOrNull(row.timedOutAt),
  };
}

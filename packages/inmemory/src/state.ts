import type {
  FlowDefinitionRecord,
  FlowScheduleState,
  StepStatus,
  WebhookRejectionRecord,
} from '@floworch/core';

/** Internal, mutable row of a run. Never handed out: reads copy it. */
export interface RunRow {
  id: string;
  flowId: string;
  flowName: string | null;
  status: string;
  triggerKey: string | null;
  triggerDataJson: string | null;
  backgroundJobId: string | null;
  startedAt: number;
  completedAt: number | null;
  sourceRunId: string | null;
}

/** Internal row of a step (latest state). */
export interface StepRow {
  stepKey: string;
  stepType: string;
  status: StepStatus;
  inputJson: string | null;
  outputJson: string | null;
  errorMessage: string | null;
  jobId: string | null;
  startedAt: number;
  completedAt: number | null;
  evaluationTraceJson: string | null;
}

/** Internal row of one attempt. */
export interface AttemptRow extends Omit<StepRow, 'stepKey'> {
  attempt: number;
}

/** Internal claim row. */
export interface ClaimRow {
  owner: string;
  claimedAt: number;
  leaseExpiresAt: number | null;
}

/** Internal dispatch-ledger row; a queued step while `visibleAt` is set. */
export interface DispatchRow {
  dispatchedAt: number;
  jobId: string | null;
  /** When the row is due (epoch ms); null once the step is done with the queue. */
  visibleAt: number | null;
  /** Automatic-retry attempt the row is for. */
  attempt: number;
}

/** Internal control row. */
export interface ControlRow {
  flowId: string;
  triggerKey: string;
  idempotencyKey: string | null;
  createdAt: number;
  timeoutAt: number | null;
  cancelRequested: boolean;
  cancelReason: string | null;
  cancelRequestedAt: number | null;
  timedOutAt: number | null;
}

/** Internal event row. */
export interface EventRow {
  sequence: number;
  timestamp: number;
  type: string;
  stepKey: string | null;
  message: string | null;
}

/** Internal signal-waiter row. */
export interface WaiterRow {
  stepKey: string;
  signalName: string;
  /** Registration time; same-instant waiters keep their `Map` (registration) order. */
  createdAt: number;
  expiresAt: number | null;
  deliveredAt: number | null;
  payloadJson: string | null;
}

/** An idempotency registration. */
export interface IdempotencyRow {
  runId: string;
  createdAt: number;
}

/** Everything that belongs to one run, so per-run reads and deletes never scan other runs. */
export interface RunData {
  steps: Map<string, StepRow>;
  attempts: Map<string, AttemptRow[]>;
  claims: Map<string, ClaimRow>;
  dispatches: Map<string, DispatchRow>;
  outputs: Map<string, string | null>;
  events: EventRow[];
  waiters: Map<string, WaiterRow>;
  control: ControlRow | null;
  /** Composite keys in `MemoryState.idempotency` that point at this run. */
  idempotencyKeys: Set<string>;
}

/**
 * The data of one in-memory backend. Several façades (`createPeer`) share one state, standing in
 * for several processes on one database.
 *
 * Runs' dependent rows live in `perRun` whether or not the run row exists, because the contracts
 * allow writing steps, claims and outputs for a run id before (or without) its run row.
 */
export class MemoryState {
  readonly flows = new Map<string, FlowDefinitionRecord>();
  readonly runs = new Map<string, RunRow>();
  readonly perRun = new Map<string, RunData>();
  /** Run ids whose status is `Running`. */
  readonly active = new Set<string>();
  readonly idempotency = new Map<string, IdempotencyRow>();
  readonly schedules = new Map<string, FlowScheduleState>();
  readonly replayNonces = new Map<string, number>();
  rejections: WebhookRejectionRecord[] = [];
  nextRejectionId = 1;
  nextEventSequence = 1;
  /**
   * Ledger rows that may be queued, by composite (run, step) key. Lazily pruned: readers check
   * the row itself, so paths that delete rows need not maintain it.
   */
  readonly queued = new Map<string, { readonly runId: string; readonly stepKey: string }>();
  /** Runs inside a queue transaction (peers share it, like row locks in one database). */
  readonly lockedRuns = new Map<string, Promise<void>>();
  /** Consumers to wake when due work appears (LISTEN/NOTIFY's stand-in). */
  readonly queueListeners = new Set<() => void>();
  /** Readers of the event log to wake when events are appended. */
  readonly eventListeners = new Set<() => void>();
  private eventWakePending = false;

  /** Appends an event row to a run's log with the next global sequence, and wakes log readers. */
  appendEvent(runId: string, row: Omit<EventRow, 'sequence'>): void {
    this.runData(runId).events.push({ sequence: this.nextEventSequence++, ...row });
    if (this.eventListeners.size === 0 || this.eventWakePending) return;
    this.eventWakePending = true;
    // After the caller's (synchronous) write is complete, like a notification after commit.
    setImmediate(() => {
      this.eventWakePending = false;
      for (const listener of this.eventListeners) listener();
    });
  }

  /** The run's dependent data, created on first write. */
  runData(runId: string): RunData {
    const id = runId.toLowerCase();
    let data = this.perRun.get(id);
    if (!data) {
      data = {
        steps: new Map(),
        attempts: new Map(),
        claims: new Map(),
        dispatches: new Map(),
        outputs: new Map(),
        events: [],
        waiters: new Map(),
        control: null,
        idempotencyKeys: new Set(),
      };
      this.perRun.set(id, data);
    }
    return data;
  }

  /** The run's dependent data if any was written (reads never create it). */
  peekRunData(runId: string): RunData | undefined {
    return this.perRun.get(runId.toLowerCase());
  }

  /** Keeps the active-run index in step with a run's status. */
  setRunStatus(run: RunRow, status: string): void {
    run.status = status;
    if (status === 'Running') this.active.add(run.id);
    else this.active.delete(run.id);
  }
}

/** Composite map key from parts that may contain any character. */
export function compositeKey(...parts: readonly string[]): string {
  return JSON.stringify(parts);
}

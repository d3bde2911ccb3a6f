import {
  type Clock,
  type DashboardStatistics,
  DuplicateRunError,
  type FlowRunPage,
  type FlowRunRecord,
  type FlowRunStore,
  type RunQuery,
  type RunStatus,
  type RunTimeseriesBucket,
  type TerminalRunStatus,
} from '@floworch/core';
import {
  buildTimeseries,
  SkipReasons,
  type StartRunInput,
  type StepCompleteInput,
  type StepStartInput,
  startOfUtcDay,
  type TimeseriesQuery,
} from '@floworch/core/backend';
import { runRecord, stepRecord, storedHeaders } from './copy.js';
import { compareOrdinal, textFilter } from './order.js';
import type { MemoryState, RunData, RunRow, StepRow } from './state.js';

const DAY_MS = 86_400_000;

/**
 * Starts an attempt: appends attempt N+1 as `Running` and points the step row at it (the start
 * write shared by `recordStepStart`, the queue's `startStep` and a transaction's start).
 */
export function appendRunningAttempt(
  data: RunData,
  stepKey: string,
  start: { stepType: string; inputJson: string | null; jobId: string | null },
  now: number,
): void {
  appendAttempt(data, stepKey, {
    stepType: start.stepType,
    status: 'Running',
    inputJson: start.inputJson,
    outputJson: null,
    errorMessage: null,
    jobId: start.jobId,
    startedAt: now,
    completedAt: null,
    evaluationTraceJson: null,
  });
}

/**
 * Records a skip: appends attempt N+1 as `Skipped`, started and completed now, and points the
 * step row at it (shared by `recordSkippedStep` and a transaction's skip write).
 */
export function appendSkippedAttempt(
  data: RunData,
  stepKey: string,
  skip: { stepType: string; reason: string | null; traceJson: string | null },
  now: number,
): void {
  appendAttempt(data, stepKey, {
    stepType: skip.stepType,
    status: 'Skipped',
    inputJson: null,
    outputJson: null,
    errorMessage: skip.reason,
    jobId: null,
    startedAt: now,
    completedAt: now,
    evaluationTraceJson: skip.traceJson,
  });
}

/** Appends the next attempt and makes the step row a copy of it. */
function appendAttempt(data: RunData, stepKey: string, row: Omit<StepRow, 'stepKey'>): void {
  const attempts = data.attempts.get(stepKey) ?? [];
  attempts.push({ ...row, attempt: attempts.length + 1 });
  data.attempts.set(stepKey, attempts);
  data.steps.set(stepKey, { ...row, stepKey });
}

/** True when no owner is asserted, or `owner` holds the step's claim. */
export function holdsClaim(data: RunData | undefined, stepKey: string, owner: string | undefined): boolean {
  if (owner === undefined) return true;
  return data?.claims.get(stepKey)?.owner === owner;
}

function contains(value: string | null | undefined, needle: string): boolean {
  return value?.toLowerCase().includes(needle) ?? false;
}

/** Inserts a `Running` run row (the id must be free) and indexes it as active. */
export function insertRunRow(state: MemoryState, input: StartRunInput, now: number): RunRow {
  const row: RunRow = {
    id: input.runId.toLowerCase(),
    flowId: input.flowId.toLowerCase(),
    flowName: input.flowName,
    status: 'Running',
    triggerKey: input.triggerKey,
    triggerDataJson: input.triggerDataJson ?? null,
    backgroundJobId: input.jobId ?? null,
    startedAt: now,
    completedAt: null,
    sourceRunId: input.sourceRunId?.toLowerCase() ?? null,
  };
  state.runs.set(row.id, row);
  state.active.add(row.id);
  return row;
}

/** In-memory {@link FlowRunStore}: runs, steps, attempts, queries and the dispatch ledger. */
export class InMemoryRunStore implements FlowRunStore {
  /** @param state shared data @param clock time source */
  constructor(
    private readonly state: MemoryState,
    private readonly clock: Clock,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  async startRun(input: StartRunInput): Promise<FlowRunRecord> {
    const id = input.runId.toLowerCase();
    if (this.state.runs.has(id)) throw new DuplicateRunError(id);
    return runRecord(insertRunRow(this.state, input, this.now()));
  }

  async getDerivedRuns(sourceRunId: string): Promise<FlowRunRecord[]> {
    const source = sourceRunId.toLowerCase();
    return this.sortNewestFirst([...this.state.runs.values()].filter((r) => r.sourceRunId === source)).map(
      (r) => runRecord(r),
    );
  }

  async recordStepStart(input: StepStartInput): Promise<boolean> {
    const data = this.state.runData(input.runId);
    if (!holdsClaim(data, input.stepKey, input.owner)) return false;
    const start = {
      stepType: input.stepType,
      inputJson: input.inputJson ?? null,
      jobId: input.jobId ?? null,
    };
    appendRunningAttempt(data, input.stepKey, start, this.now());
    return true;
  }

  async recordStepComplete(input: StepCompleteInput): Promise<boolean> {
    const data = this.state.peekRunData(input.runId);
    const step = data?.steps.get(input.stepKey);
    if (!data || !step) return false;
    if (!holdsClaim(data, input.stepKey, input.owner)) return false;
    const now = this.now();
    const patch = {
      status: input.status,
      outputJson: input.outputJson ?? null,
      errorMessage: input.errorMessage ?? null,
      completedAt: now,
    };
    Object.assign(step, patch);
    const attempts = data.attempts.get(input.stepKey);
    const latest = attempts?.[attempts.length - 1];
    if (latest) Object.assign(latest, patch);
    return true;
  }

  async completeRun(runId: string, status: RunStatus): Promise<void> {
    const run = this.state.runs.get(runId.toLowerCase());
    if (!run) return;
    this.state.setRunStatus(run, status);
    run.completedAt = this.now();
  }

  async completeRunIfActive(runId: string, status: TerminalRunStatus): Promise<boolean> {
    const run = this.state.runs.get(runId.toLowerCase());
    if (run?.status !== 'Running') return false;
    this.state.setRunStatus(run, status);
    run.completedAt = this.now();
    return true;
  }

  async getRuns(query?: RunQuery): Promise<FlowRunRecord[]> {
    return [...(await this.getRunsPage(query)).runs];
  }

  async getRunsPage(query: RunQuery = {}): Promise<FlowRunPage> {
    // The guard in front of this store has clamped skip and take already.
    const { skip = 0, take = 0 } = query;
    const flowId = query.flowId?.toLowerCase();
    const status = textFilter(query.status);
    const search = textFilter(query.search);
    const matches = [...this.state.runs.values()].filter(
      (run) =>
        (!flowId || run.flowId === flowId) &&
        (!status || run.status.toLowerCase() === status) &&
        (!search || this.matchesSearch(run, search)),
    );
    const page = this.sortNewestFirst(matches).slice(skip, skip + take);
    return { runs: page.map((r) => runRecord(r)), totalCount: matches.length };
  }

  private matchesSearch(run: RunRow, needle: string): boolean {
    if (
      contains(run.id, needle) ||
      contains(run.flowName, needle) ||
      contains(run.triggerKey, needle) ||
      contains(run.status, needle) ||
      contains(run.backgroundJobId, needle)
    ) {
      return true;
    }
    // Every step row has attempts carrying its key, error and output, so searching the attempts
    // covers the step rows too.
    for (const [stepKey, attempts] of this.state.peekRunData(run.id)?.attempts ?? []) {
      if (contains(stepKey, needle)) return true;
      for (const a of attempts) {
        if (contains(a.errorMessage, needle) || contains(a.outputJson, needle)) return true;
      }
    }
    return false;
  }

  private sortNewestFirst(rows: RunRow[]): RunRow[] {
    return rows.sort((a, b) => b.startedAt - a.startedAt || compareOrdinal(a.id, b.id));
  }

  async getRunDetail(runId: string): Promise<FlowRunRecord | null> {
    const run = this.state.runs.get(runId.toLowerCase());
    if (!run) return null;
    const data = this.state.peekRunData(run.id);
    const steps = data
      ? [...data.steps.values()]
          .sort((a, b) => a.startedAt - b.startedAt || compareOrdinal(a.stepKey, b.stepKey))
          .map((s) => stepRecord(run.id, s, data.attempts.get(s.stepKey)!))
      : [];
    return runRecord(run, { steps, triggerHeaders: storedHeaders(data?.outputs) });
  }

  async getStatistics(): Promise<DashboardStatistics> {
    const dayStart = startOfUtcDay(this.clock.now()).getTime();
    const dayEnd = dayStart + DAY_MS;
    let completedToday = 0;
    let failedToday = 0;
    for (const run of this.state.runs.values()) {
      if (run.completedAt === null || run.completedAt < dayStart || run.completedAt >= dayEnd) continue;
      if (run.status === 'Succeeded') completedToday++;
      else if (run.status === 'Failed') failedToday++;
    }
    return {
      totalFlows: this.state.flows.size,
      activeRuns: this.state.active.size,
      completedToday,
      failedToday,
    };
  }

  async getRunTimeseries(query: TimeseriesQuery): Promise<RunTimeseriesBucket[]> {
    const flowId = query.flowId?.toLowerCase();
    const rows = [...this.state.runs.values()]
      .filter((r) => !flowId || r.flowId === flowId)
      .map((r) => ({
        startedAt: new Date(r.startedAt),
        completedAt: r.completedAt === null ? null : new Date(r.completedAt),
        status: r.status,
      }));
    return buildTimeseries(query, rows);
  }

  async getActiveRuns(limit?: number): Promise<FlowRunRecord[]> {
    const rows = this.sortNewestFirst([...this.state.active].map((id) => this.state.runs.get(id)!));
    const bounded = limit !== undefined && limit >= 0 ? rows.slice(0, limit) : rows;
    return bounded.map((r) => runRecord(r));
  }

  async retryStep(runId: string, stepKey: string): Promise<void> {
    const id = runId.toLowerCase();
    const now = this.now();
    const data = this.state.peekRunData(id);
    const step = data?.steps.get(stepKey);
    if (step) {
      Object.assign(step, {
        status: 'Running',
        outputJson: null,
        errorMessage: null,
        completedAt: null,
        startedAt: now,
      });
    }
    const run = this.state.runs.get(id);
    if (run) {
      this.state.setRunStatus(run, 'Running');
      run.completedAt = null;
    }
    data?.claims.delete(stepKey);
    data?.dispatches.delete(stepKey);
  }

  async resetCascadeSkippedDependents(runId: string, stepKeys: readonly string[]): Promise<void> {
    const data = this.state.peekRunData(runId);
    if (!data) return;
    for (const key of stepKeys) {
      const step = data.steps.get(key);
      if (step?.status !== 'Skipped' || step.errorMessage !== SkipReasons.prerequisitesUnmet) continue;
      data.steps.delete(key);
      data.claims.delete(key);
      data.dispatches.delete(key);
    }
  }

  async tryRecordDispatch(runId: string, stepKey: string): Promise<boolean> {
    const data = this.state.runData(runId);
    if (data.dispatches.has(stepKey)) return false;
    data.dispatches.set(stepKey, { dispatchedAt: this.now(), jobId: null, visibleAt: null, attempt: 1 });
    return true;
  }

  async annotateDispatch(runId: string, stepKey: string, jobId: string): Promise<void> {
    const row = this.state.peekRunData(runId)?.dispatches.get(stepKey);
    if (row) row.jobId = jobId;
  }

  async releaseDispatch(runId: string, stepKey: string): Promise<void> {
    this.state.peekRunData(runId)?.dispatches.delete(stepKey);
  }

  async getDispatchedStepKeys(runId: string): Promise<Set<string>> {
    return new Set(this.state.peekRunData(runId)?.dispatches.keys() ?? []);
  }
}

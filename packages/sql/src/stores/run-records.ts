import {
  type FlowRunRecord,
  type FlowStepAttemptRecord,
  type FlowStepRecord,
  parseStepStatus,
  type RunStatus,
} from '@floworch/core/backend';
import type { Selectable } from 'kysely';
import type { FlowRunsTable, FlowStepAttemptsTable, FlowStepsTable } from '../schema.js';
import { toDate, toDateOrNull, toNumber, toUuid, toUuidOrNull } from '../values.js';

/** A `flowRuns` row as read. */
export type RunRow = Selectable<FlowRunsTable>;
/** A `flowSteps` row as read. */
export type StepRow = Selectable<FlowStepsTable>;
/** A `flowStepAttempts` row as read. */
export type AttemptRow = Selectable<FlowStepAttemptsTable>;

/** A run row as its public record (steps and headers only where the caller supplies them). */
export function runRecord(
  row: RunRow,
  extra?: Partial<Pick<FlowRunRecord, 'steps' | 'triggerHeaders'>>,
): FlowRunRecord {
  return {
    id: toUuid(row.id),
    flowId: toUuid(row.flowId),
    flowName: row.flowName,
    status: row.status as RunStatus,
    triggerKey: row.triggerKey,
    triggerDataJson: row.triggerDataJson,
    triggerHeaders: extra?.triggerHeaders ?? null,
    backgroundJobId: row.backgroundJobId,
    startedAt: toDate(row.startedAt),
    completedAt: toDateOrNull(row.completedAt),
    sourceRunId: toUuidOrNull(row.sourceRunId),
    steps: extra?.steps ?? null,
  };
}

function attemptRecord(runId: string, row: StepRow, attempt: number): FlowStepAttemptRecord {
  return {
    runId,
    stepKey: row.stepKey,
    attempt,
    stepType: row.stepType,
    status: parseStepStatus(row.status),
    inputJson: row.inputJson,
    outputJson: row.outputJson,
    errorMessage: row.errorMessage,
    jobId: row.jobId,
    startedAt: toDate(row.startedAt),
    completedAt: toDateOrNull(row.completedAt),
    evaluationTraceJson: row.evaluationTraceJson,
  };
}

/** A step row with its attempts; a step without attempt rows gets a synthetic attempt #1. */
export function stepRecord(runId: string, row: StepRow, attempts: readonly AttemptRow[]): FlowStepRecord {
  const list =
    attempts.length > 0
      ? attempts.map((a) => attemptRecord(runId, a, toNumber(a.attemptNo)))
      : [attemptRecord(runId, row, 1)];
  return {
    runId,
    stepKey: row.stepKey,
    stepType: row.stepType,
    status: parseStepStatus(row.status),
    inputJson: row.inputJson,
    outputJson: row.outputJson,
    errorMessage: row.errorMessage,
    jobId: row.jobId,
    startedAt: toDate(row.startedAt),
    completedAt: toDateOrNull(row.completedAt),
    attemptCount: list.length,
    attempts: list,
    evaluationTraceJson: row.evaluationTraceJson,
  };
}

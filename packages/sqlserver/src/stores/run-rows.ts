import type { FlowRunRecord, FlowStepAttemptRecord, FlowStepRecord, RunStatus } from '@floworch/core/backend';
import { parseStepStatus } from '@floworch/core/backend';
import { sql } from 'kysely';
import { toDate, toDateOrNull, toNumber, toUuid, toUuidOrNull } from '../sql/values.js';

/** A `FlowRuns` row as read. */
export interface RunRow {
  Id: string;
  FlowId: string;
  FlowName: string | null;
  Status: string;
  TriggerKey: string | null;
  TriggerDataJson: string | null;
  BackgroundJobId: string | null;
  StartedAt: Date;
  CompletedAt: Date | null;
  SourceRunId: string | null;
}

/** Columns of {@link RunRow}, qualified by alias `r`. */
export const RUN_COLUMNS = sql.raw(
  'r.[Id], r.[FlowId], r.[FlowName], r.[Status], r.[TriggerKey], r.[TriggerDataJson], r.[BackgroundJobId], r.[StartedAt], r.[CompletedAt], r.[SourceRunId]',
);

/** Columns of {@link RunRow} from an `OUTPUT` clause. */
export const RUN_INSERTED = sql.raw(
  'inserted.[Id], inserted.[FlowId], inserted.[FlowName], inserted.[Status], inserted.[TriggerKey], inserted.[TriggerDataJson], inserted.[BackgroundJobId], inserted.[StartedAt], inserted.[CompletedAt], inserted.[SourceRunId]',
);

/** A `FlowSteps` or `FlowStepAttempts` row as read (`AttemptNo` only on attempts). */
export interface StepRow {
  StepKey: string;
  AttemptNo?: number;
  StepType: string;
  Status: string;
  InputJson: string | null;
  OutputJson: string | null;
  ErrorMessage: string | null;
  JobId: string | null;
  StartedAt: Date;
  CompletedAt: Date | null;
  EvaluationTraceJson: string | null;
}

/** Columns shared by steps and attempts. */
export const STEP_COLUMNS = sql.raw(
  '[StepKey], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson]',
);

/** A public run record (no steps unless given). */
export function runRecord(
  row: RunRow,
  extra?: Partial<Pick<FlowRunRecord, 'steps' | 'triggerHeaders'>>,
): FlowRunRecord {
  return {
    id: toUuid(row.Id),
    flowId: toUuid(row.FlowId),
    flowName: row.FlowName,
    status: row.Status as RunStatus,
    triggerKey: row.TriggerKey,
    triggerDataJson: row.TriggerDataJson,
    triggerHeaders: extra?.triggerHeaders ?? null,
    backgroundJobId: row.BackgroundJobId,
    startedAt: toDate(row.StartedAt),
    completedAt: toDateOrNull(row.CompletedAt),
    sourceRunId: toUuidOrNull(row.SourceRunId),
    steps: extra?.steps ?? null,
  };
}

function attemptRecord(runId: string, row: StepRow, attempt: number): FlowStepAttemptRecord {
  return {
    runId,
    stepKey: row.StepKey,
    attempt,
    stepType: row.StepType,
    status: parseStepStatus(row.Status),
    inputJson: row.InputJson,
    outputJson: row.OutputJson,
    errorMessage: row.ErrorMessage,
    jobId: row.JobId,
    startedAt: toDate(row.StartedAt),
    completedAt: toDateOrNull(row.CompletedAt),
    evaluationTraceJson: row.EvaluationTraceJson,
  };
}

/** A public step record with its attempts; a step without attempt rows gets a synthetic #1. */
export function stepRecord(runId: string, row: StepRow, attempts: readonly StepRow[]): FlowStepRecord {
  const list =
    attempts.length > 0
      ? attempts.map((a) => attemptRecord(runId, a, toNumber(a.AttemptNo)))
      : [attemptRecord(runId, row, 1)];
  return {
    runId,
    stepKey: row.StepKey,
    stepType: row.StepType,
    status: parseStepStatus(row.Status),
    inputJson: row.InputJson,
    outputJson: row.OutputJson,
    errorMessage: row.ErrorMessage,
    jobId: row.JobId,
    startedAt: toDate(row.StartedAt),
    completedAt: toDateOrNull(row.CompletedAt),
    attemptCount: list.length,
    attempts: list,
    evaluationTraceJson: row.EvaluationTraceJson,
  };
}

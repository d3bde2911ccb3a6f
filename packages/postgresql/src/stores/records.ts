import type { FlowRunRecord, FlowStepAttemptRecord, FlowStepRecord, RunStatus } from '@floworch/core/backend';
import { parseStepStatus } from '@floworch/core/backend';
import type { Selectable } from 'kysely';
import type { FlowRunsTable, FlowStepAttemptsTable, FlowStepsTable } from '../schema/database.js';
import { toDate, toDateOrNull } from '../sql/context.js';

/** A `flow_runs` row as read. */
export type RunRow = Selectable<FlowRunsTable>;
/** A `flow_steps` row as read. */
export type StepRow = Selectable<FlowStepsTable>;
/** A `flow_step_attempts` row as read. */
export type AttemptRow = Selectable<FlowStepAttemptsTable>;

/** Maps a run row to its record (steps and headers only where the caller supplies them). */
export function runRecord(
  row: RunRow,
  extra?: Partial<Pick<FlowRunRecord, 'steps' | 'triggerHeaders'>>,
): FlowRunRecord {
  return {
    id: row.id,
    flowId: row.flow_id,
    flowName: row.flow_name,
    status: row.status as RunStatus,
    triggerKey: row.trigger_key,
    triggerDataJson: row.trigger_data_json,
    triggerHeaders: extra?.triggerHeaders ?? null,
    backgroundJobId: row.background_job_id,
    startedAt: toDate(row.started_at),
    completedAt: toDateOrNull(row.completed_at),
    sourceRunId: row.source_run_id,
    steps: extra?.steps ?? null,
  };
}

function attemptRecord(row: Omit<AttemptRow, 'attempt_no'>, attempt: number): FlowStepAttemptRecord {
  return {
    runId: row.run_id,
    stepKey: row.step_key,
    attempt,
    stepType: row.step_type,
    status: parseStepStatus(row.status),
    inputJson: row.input_json,
    outputJson: row.output_json,
    errorMessage: row.error_message,
    jobId: row.job_id,
    startedAt: toDate(row.started_at),
    completedAt: toDateOrNull(row.completed_at),
    evaluationTraceJson: row.evaluation_trace_json,
  };
}

/** Maps a step row and its attempts; a step without attempt rows gets a synthetic attempt #1. */
export function stepRecord(row: StepRow, attempts: readonly AttemptRow[]): FlowStepRecord {
  const list =
    attempts.length > 0 ? attempts.map((a) => attemptRecord(a, a.attempt_no)) : [attemptRecord(row, 1)];
  return {
    runId: row.run_id,
    stepKey: row.step_key,
    stepType: row.step_type,
    status: parseStepStatus(row.status),
    inputJson: row.input_json,
    outputJson: row.output_json,
    errorMessage: row.error_message,
    jobId: row.job_id,
    startedAt: toDate(row.started_at),
    completedAt: toDateOrNull(row.completed_at),
    attemptCount: list.length,
    attempts: list,
    evaluationTraceJson: row.evaluation_trace_json,
  };
}

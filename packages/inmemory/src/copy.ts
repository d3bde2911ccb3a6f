import type { FlowRunRecord, FlowStepAttemptRecord, FlowStepRecord, RunStatus } from '@floworch/core';
import { headersFromJsonText, OutputKeys, parseStepStatus } from '@floworch/core/backend';
import type { AttemptRow, RunRow, StepRow } from './state.js';

/** A fresh `Date` from a stored epoch-ms value. */
export const toDate = (ms: number): Date => new Date(ms);
/** A fresh `Date` or null. */
export const toDateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

/** Public copy of a run row (no steps). */
export function runRecord(
  row: RunRow,
  extra?: Partial<Pick<FlowRunRecord, 'steps' | 'triggerHeaders'>>,
): FlowRunRecord {
  return {
    id: row.id,
    flowId: row.flowId,
    flowName: row.flowName,
    status: row.status as RunStatus,
    triggerKey: row.triggerKey,
    triggerDataJson: row.triggerDataJson,
    triggerHeaders: extra?.triggerHeaders ?? null,
    backgroundJobId: row.backgroundJobId,
    startedAt: toDate(row.startedAt),
    completedAt: toDateOrNull(row.completedAt),
    sourceRunId: row.sourceRunId,
    steps: extra?.steps ?? null,
  };
}

/** Public copy of an attempt row. */
export function attemptRecord(runId: string, stepKey: string, row: AttemptRow): FlowStepAttemptRecord {
  return {
    runId,
    stepKey,
    attempt: row.attempt,
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

/**
 * Public copy of a step row with its attempts. Every write that creates a step row here appends
 * an attempt too, so the list is never empty.
 */
export function stepRecord(runId: string, row: StepRow, attempts: readonly AttemptRow[]): FlowStepRecord {
  const list = attempts.map((a) => attemptRecord(runId, row.stepKey, a));
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

/** Headers stored under `__trigger:headers`, parsed. */
export function storedHeaders(
  outputs: ReadonlyMap<string, string | null> | undefined,
): Record<string, string> | null {
  return headersFromJsonText(outputs?.get(OutputKeys.triggerHeaders) ?? null);
}

import { createHash } from 'node:crypto';

/** A queued row as the dispatcher sends it: what a job is for. */
export interface DispatchRow {
  /** Run id. */
  readonly runId: string;
  /** Flow id of the run, when the writer knew it. */
  readonly flowId?: string;
  /** Step key. */
  readonly stepKey: string;
  /** Automatic-retry attempt of the row; 0 when the writer did not know it (a wake or hand-back). */
  readonly attempt: number;
  /** When the row is due. */
  readonly visibleAt: Date;
  /**
   * Appended to the job id: a second delivery of the same row state while its first job is stuck
   * (taken by a worker that died before it claimed the row).
   */
  readonly idSuffix?: string;
}

/** The data of a step job (JSON in Redis). */
export interface StepJobData {
  /** Run id. */
  readonly runId: string;
  /** Flow id, when known. */
  readonly flowId?: string;
  /** Step key. */
  readonly stepKey: string;
  /** Attempt of the row when it was dispatched (0: unknown). */
  readonly attempt: number;
  /** When the row was due, in ms since the epoch. */
  readonly visibleAt: number;
}

/** Longest step key kept readable in a job id; longer ones are hashed (job ids stay ≤ 128). */
const READABLE_KEY = 48;

/**
 * The job id of a queued row: `<runId>/<stepKey>#<attempt>@<visibleAt ms>`. Derived from the
 * row alone, so every process that dispatches the same row state — the transition that queued
 * it, a maintenance sweep, a duplicate delivery — adds the same id, and BullMQ keeps one job.
 * The due time is part of it because one (run, step, attempt) can be queued several times (a
 * `Pending` poll, a wake-up, a lease that lapsed), each a job of its own. Step keys longer than
 * 48 characters are replaced by a hash; ids never contain `:` (BullMQ's key separator) and are at
 * most 128 characters, the width of the step rows' job-id column.
 */
export function stepJobId(
  row: Pick<DispatchRow, 'runId' | 'stepKey' | 'attempt' | 'visibleAt' | 'idSuffix'>,
): string {
  const key =
    row.stepKey.length <= READABLE_KEY && !row.stepKey.includes(':')
      ? row.stepKey
      : `~${createHash('sha1').update(row.stepKey).digest('hex')}`;
  const suffix = row.idSuffix ? `!${row.idSuffix}` : '';
  return `${row.runId.toLowerCase()}/${key}#${row.attempt}@${row.visibleAt.getTime()}${suffix}`;
}

/** The job data of a row. */
export function stepJobData(row: DispatchRow): StepJobData {
  return {
    runId: row.runId.toLowerCase(),
    ...(row.flowId ? { flowId: row.flowId } : {}),
    stepKey: row.stepKey,
    attempt: row.attempt,
    visibleAt: row.visibleAt.getTime(),
  };
}

import { sql } from 'kysely';
import { type PgContext, table } from '../sql/context.js';

/**
 * The step-row writes shared by the run store and the runtime store. Each is one statement:
 * the step row is upserted and the attempt appended together, and attempt numbers come from the
 * step row's `attempt_count`, bumped by the upsert itself. Concurrent starters of one step queue
 * on that row's lock, so numbers are gap-free and unique without SERIALIZABLE or retries.
 */

/** Fields of a new attempt (a start or a skip). */
export interface AttemptWrite {
  readonly runId: string;
  readonly stepKey: string;
  readonly stepType: string;
  readonly status: 'Running' | 'Skipped';
  readonly inputJson: string | null;
  readonly jobId: string | null;
  readonly errorMessage: string | null;
  readonly completed: boolean;
  readonly evaluationTraceJson: string | null;
  /** When set, the write happens only while this owner holds the step's claim. */
  readonly owner?: string;
  /** An event stored with the attempt (only when the attempt is written). */
  readonly event?: { readonly type: string; readonly message: string | null; readonly timestamp: Date };
}

/** Appends an attempt and resets the step row to it. Returns false when the fence failed. */
export async function appendAttempt(ctx: PgContext, w: AttemptWrite): Promise<boolean> {
  const now = ctx.clock.now();
  const completedAt = w.completed ? now : null;
  const steps = table(ctx, 'flow_steps');
  const attempts = table(ctx, 'flow_step_attempts');
  const result = await sql<{ attempt_no: number }>`
    WITH fence AS (
      SELECT 1 FROM ${table(ctx, 'flow_step_claims')}
      WHERE run_id = ${w.runId} AND step_key = ${w.stepKey} AND owner = ${w.owner ?? null}
      FOR SHARE
    ),
    step AS (
      INSERT INTO ${steps} AS s (run_id, step_key, step_type, status, input_json, output_json, error_message,
        job_id, started_at, completed_at, evaluation_trace_json, attempt_count)
      SELECT ${w.runId}::uuid, ${w.stepKey}, ${w.stepType}, ${w.status}, ${w.inputJson}, NULL, ${w.errorMessage},
        ${w.jobId}, ${now}::timestamptz, ${completedAt}::timestamptz, ${w.evaluationTraceJson},
        (SELECT COALESCE(MAX(attempt_no), 0) + 1 FROM ${attempts} WHERE run_id = ${w.runId} AND step_key = ${w.stepKey})
      WHERE ${w.owner === undefined}::boolean OR EXISTS (SELECT 1 FROM fence)
      ON CONFLICT (run_id, step_key) DO UPDATE SET
        step_type = EXCLUDED.step_type, status = EXCLUDED.status, input_json = EXCLUDED.input_json,
        output_json = NULL, error_message = EXCLUDED.error_message, job_id = EXCLUDED.job_id,
        started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at,
        evaluation_trace_json = EXCLUDED.evaluation_trace_json, attempt_count = s.attempt_count + 1
      RETURNING attempt_count
    )
    ,
    attempt AS (
      INSERT INTO ${attempts} (run_id, step_key, attempt_no, step_type, status, input_json, output_json,
        error_message, job_id, started_at, completed_at, evaluation_trace_json)
      SELECT ${w.runId}::uuid, ${w.stepKey}, attempt_count, ${w.stepType}, ${w.status}, ${w.inputJson}, NULL,
        ${w.errorMessage}, ${w.jobId}, ${now}::timestamptz, ${completedAt}::timestamptz, ${w.evaluationTraceJson}
      FROM step
      RETURNING attempt_no
    ),
    event AS (
      INSERT INTO ${table(ctx, 'flow_events')} (run_id, timestamp_utc, type, step_key, message)
      SELECT ${w.runId}::uuid, ${w.event?.timestamp ?? now}::timestamptz, ${w.event?.type ?? ''}, ${w.stepKey}, ${w.event?.message ?? null}
      FROM attempt WHERE ${w.event !== undefined}::boolean
    )
    SELECT attempt_no FROM attempt`.execute(ctx.db);
  return result.rows.length > 0;
}

/** Fields of a step completion. */
export interface CompletionWrite {
  readonly runId: string;
  readonly stepKey: string;
  readonly status: string;
  readonly outputJson: string | null;
  readonly errorMessage: string | null;
  readonly owner?: string;
}

/** Completes the step row and its latest attempt. False when the step is unknown or the fence failed. */
export async function completeAttempt(ctx: PgContext, w: CompletionWrite): Promise<boolean> {
  const now = ctx.clock.now();
  const result = await sql<{ n: string | number }>`
    WITH fence AS (
      SELECT 1 FROM ${table(ctx, 'flow_step_claims')}
      WHERE run_id = ${w.runId} AND step_key = ${w.stepKey} AND owner = ${w.owner ?? null}
      FOR SHARE
    ),
    step AS (
      UPDATE ${table(ctx, 'flow_steps')} SET status = ${w.status}, output_json = ${w.outputJson},
        error_message = ${w.errorMessage}, completed_at = ${now}
      WHERE run_id = ${w.runId} AND step_key = ${w.stepKey}
        AND (${w.owner === undefined}::boolean OR EXISTS (SELECT 1 FROM fence))
      RETURNING attempt_count
    ),
    attempt AS (
      UPDATE ${table(ctx, 'flow_step_attempts')} a SET status = ${w.status}, output_json = ${w.outputJson},
        error_message = ${w.errorMessage}, completed_at = ${now}
      FROM step
      WHERE a.run_id = ${w.runId} AND a.step_key = ${w.stepKey} AND a.attempt_no = step.attempt_count
      RETURNING 1
    )
    SELECT COUNT(*) AS n FROM step`.execute(ctx.db);
  return Number(result.rows[0]?.n ?? 0) > 0;
}

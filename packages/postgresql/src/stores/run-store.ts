import {
  DuplicateRunError,
  type FlowRunRecord,
  type RunStatus,
  SkipReasons,
  type StartRunInput,
  type StepCompleteInput,
  type StepStartInput,
  type TerminalRunStatus,
} from '@floworch/core/backend';
import { runRecord, SqlRunStore } from '@floworch/sql';
import { sql } from 'kysely';
import { type PgContext, pgLayer, table } from '../sql/context.js';
import { guard } from '../sql/errors.js';
import { appendAttempt, completeAttempt } from './step-writes.js';

/**
 * PostgreSQL `FlowRunStore`: the shared SQL reads, plus the writes (attempt log, retry and reset
 * as single statements, the dispatch ledger).
 */
export class PgRunStore extends SqlRunStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {
    super(pgLayer(ctx));
  }

  async startRun(input: StartRunInput): Promise<FlowRunRecord> {
    const row = await guard('runs.startRun', () =>
      this.layer.db
        .insertInto('flowRuns')
        .values({
          id: input.runId,
          flowId: input.flowId,
          flowName: input.flowName,
          status: 'Running',
          triggerKey: input.triggerKey,
          triggerDataJson: input.triggerDataJson ?? null,
          backgroundJobId: input.jobId ?? null,
          startedAt: this.ctx.clock.now(),
          completedAt: null,
          sourceRunId: input.sourceRunId ?? null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll()
        .executeTakeFirst(),
    );
    if (!row) throw new DuplicateRunError(input.runId.toLowerCase());
    return runRecord(row);
  }

  async recordStepStart(input: StepStartInput): Promise<boolean> {
    return guard('runs.recordStepStart', () =>
      appendAttempt(this.ctx, {
        runId: input.runId,
        stepKey: input.stepKey,
        stepType: input.stepType,
        status: 'Running',
        inputJson: input.inputJson ?? null,
        jobId: input.jobId ?? null,
        errorMessage: null,
        completed: false,
        evaluationTraceJson: null,
        ...(input.owner === undefined ? {} : { owner: input.owner }),
      }),
    );
  }

  async recordStepComplete(input: StepCompleteInput): Promise<boolean> {
    return guard('runs.recordStepComplete', () =>
      completeAttempt(this.ctx, {
        runId: input.runId,
        stepKey: input.stepKey,
        status: input.status,
        outputJson: input.outputJson ?? null,
        errorMessage: input.errorMessage ?? null,
        ...(input.owner === undefined ? {} : { owner: input.owner }),
      }),
    );
  }

  async completeRun(runId: string, status: RunStatus): Promise<void> {
    await guard('runs.completeRun', () =>
      this.ctx.db
        .updateTable('flow_runs')
        .set({ status, completed_at: this.ctx.clock.now() })
        .where('id', '=', runId)
        .execute(),
    );
  }

  async completeRunIfActive(runId: string, status: TerminalRunStatus): Promise<boolean> {
    const row = await guard('runs.completeRunIfActive', () =>
      this.ctx.db
        .updateTable('flow_runs')
        .set({ status, completed_at: this.ctx.clock.now() })
        .where('id', '=', runId)
        .where('status', '=', 'Running')
        .returning('id')
        .executeTakeFirst(),
    );
    return row !== undefined;
  }

  async retryStep(runId: string, stepKey: string): Promise<void> {
    const now = this.ctx.clock.now();
    // One statement, so a crash never leaves the run re-opened with the old gates still set.
    await guard('runs.retryStep', () =>
      sql`
        WITH step AS (
          UPDATE ${table(this.ctx, 'flow_steps')} SET status = 'Running', output_json = NULL, error_message = NULL,
            completed_at = NULL, started_at = ${now}
          WHERE run_id = ${runId} AND step_key = ${stepKey}
        ),
        run AS (
          UPDATE ${table(this.ctx, 'flow_runs')} SET status = 'Running', completed_at = NULL WHERE id = ${runId}
        ),
        claim AS (
          DELETE FROM ${table(this.ctx, 'flow_step_claims')} WHERE run_id = ${runId} AND step_key = ${stepKey}
        )
        DELETE FROM ${table(this.ctx, 'flow_step_dispatches')} WHERE run_id = ${runId} AND step_key = ${stepKey}`.execute(
        this.ctx.db,
      ),
    );
  }

  async resetCascadeSkippedDependents(runId: string, stepKeys: readonly string[]): Promise<void> {
    if (stepKeys.length === 0) return;
    await guard('runs.resetCascadeSkippedDependents', () =>
      sql`
        WITH reset AS (
          DELETE FROM ${table(this.ctx, 'flow_steps')}
          WHERE run_id = ${runId} AND step_key = ANY(${[...stepKeys]}::text[])
            AND status = 'Skipped' AND error_message = ${SkipReasons.prerequisitesUnmet}
          RETURNING step_key
        ),
        claims AS (
          DELETE FROM ${table(this.ctx, 'flow_step_claims')}
          WHERE run_id = ${runId} AND step_key IN (SELECT step_key FROM reset)
        )
        DELETE FROM ${table(this.ctx, 'flow_step_dispatches')}
        WHERE run_id = ${runId} AND step_key IN (SELECT step_key FROM reset)`.execute(this.ctx.db),
    );
  }

  async tryRecordDispatch(runId: string, stepKey: string): Promise<boolean> {
    const row = await guard('runs.tryRecordDispatch', () =>
      this.ctx.db
        .insertInto('flow_step_dispatches')
        .values({
          run_id: runId,
          step_key: stepKey,
          dispatched_at: this.ctx.clock.now(),
          dispatch_job_id: null,
        })
        .onConflict((oc) => oc.columns(['run_id', 'step_key']).doNothing())
        .returning('step_key')
        .executeTakeFirst(),
    );
    return row !== undefined;
  }

  async annotateDispatch(runId: string, stepKey: string, jobId: string): Promise<void> {
    // Update only: a late annotation must never resurrect a released ledger row.
    await guard('runs.annotateDispatch', () =>
      this.ctx.db
        .updateTable('flow_step_dispatches')
        .set({ dispatch_job_id: jobId })
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .execute(),
    );
  }

  async releaseDispatch(runId: string, stepKey: string): Promise<void> {
    await guard('runs.releaseDispatch', () =>
      this.ctx.db
        .deleteFrom('flow_step_dispatches')
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .execute(),
    );
  }
}

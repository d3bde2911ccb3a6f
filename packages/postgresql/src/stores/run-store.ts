import {
  buildTimeseries,
  clampRunPage,
  type DashboardStatistics,
  DuplicateRunError,
  escapeLikePattern,
  type FlowRunPage,
  type FlowRunRecord,
  type FlowRunStore,
  headersFromJsonText,
  InvalidArgumentError,
  OutputKeys,
  type RunQuery,
  type RunStatus,
  type RunTimeseriesBucket,
  SkipReasons,
  type StartRunInput,
  type StepCompleteInput,
  type StepStartInput,
  startOfUtcDay,
  type TerminalRunStatus,
  type TimeseriesQuery,
  timeseriesWindow,
} from '@floworch/core/backend';
import { type Expression, type SqlBool, sql } from 'kysely';
import { type PgContext, table, toNumber } from '../sql/context.js';
import { guard } from '../sql/errors.js';
import { type AttemptRow, type RunRow, runRecord, type StepRow, stepRecord } from './records.js';
import { appendAttempt, completeAttempt } from './step-writes.js';

const DAY_MS = 86_400_000;

/** PostgreSQL {@link FlowRunStore}: runs, steps, attempts, dashboard queries and the dispatch ledger. */
export class PgRunStore implements FlowRunStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async startRun(input: StartRunInput): Promise<FlowRunRecord> {
    if (!input.runId) throw new InvalidArgumentError('runId', 'is required');
    const row = await guard('runs.startRun', () =>
      this.ctx.db
        .insertInto('flow_runs')
        .values({
          id: input.runId,
          flow_id: input.flowId,
          flow_name: input.flowName,
          status: 'Running',
          trigger_key: input.triggerKey,
          trigger_data_json: input.triggerDataJson ?? null,
          background_job_id: input.jobId ?? null,
          started_at: this.ctx.clock.now(),
          completed_at: null,
          source_run_id: input.sourceRunId ?? null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returningAll()
        .executeTakeFirst(),
    );
    if (!row) throw new DuplicateRunError(input.runId.toLowerCase());
    return runRecord(row);
  }

  async getDerivedRuns(sourceRunId: string): Promise<FlowRunRecord[]> {
    return guard('runs.getDerivedRuns', async () => {
      const rows = await this.ctx.db
        .selectFrom('flow_runs')
        .selectAll()
        .where('source_run_id', '=', sourceRunId)
        .orderBy('started_at', 'desc')
        .orderBy('id')
        .execute();
      return rows.map((r) => runRecord(r));
    });
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

  async getRuns(query?: RunQuery): Promise<FlowRunRecord[]> {
    return [...(await this.getRunsPage(query)).runs];
  }

  async getRunsPage(query: RunQuery = {}): Promise<FlowRunPage> {
    const { skip, take } = clampRunPage(query.skip, query.take);
    return guard('runs.getRunsPage', async () => {
      const filtered = this.ctx.db.selectFrom('flow_runs as r').where((eb) => {
        const conditions: Expression<SqlBool>[] = [];
        if (query.flowId) conditions.push(eb('r.flow_id', '=', query.flowId));
        const status = query.status?.trim();
        if (status) conditions.push(sql<SqlBool>`LOWER(r.status) = LOWER(${status})`);
        const search = query.search?.trim();
        if (search) conditions.push(this.searchCondition(search));
        return eb.and(conditions);
      });
      const [rows, count] = await Promise.all([
        take === 0
          ? Promise.resolve([] as RunRow[])
          : filtered
              .selectAll('r')
              .orderBy('r.started_at', 'desc')
              .orderBy('r.id')
              .offset(skip)
              .limit(take)
              .execute(),
        filtered.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { runs: rows.map((r) => runRecord(r)), totalCount: toNumber(count.n) };
    });
  }

  /** Case-insensitive literal substring over run fields and every step and attempt row. */
  private searchCondition(search: string): Expression<SqlBool> {
    const pattern = `%${escapeLikePattern(search.toLowerCase())}%`;
    const like = (column: string) => sql`LOWER(${sql.ref(column)}) LIKE ${pattern} ESCAPE '\\'`;
    return sql<SqlBool>`(
      LOWER(r.id::text) LIKE ${pattern} ESCAPE '\\'
      OR ${like('r.flow_name')} OR ${like('r.trigger_key')} OR ${like('r.status')} OR ${like('r.background_job_id')}
      OR EXISTS (SELECT 1 FROM ${table(this.ctx, 'flow_steps')} s WHERE s.run_id = r.id
        AND (${like('s.step_key')} OR ${like('s.error_message')} OR ${like('s.output_json')}))
      OR EXISTS (SELECT 1 FROM ${table(this.ctx, 'flow_step_attempts')} a WHERE a.run_id = r.id
        AND (${like('a.step_key')} OR ${like('a.error_message')} OR ${like('a.output_json')}))
    )`;
  }

  async getRunDetail(runId: string): Promise<FlowRunRecord | null> {
    return guard('runs.getRunDetail', async () => {
      // One snapshot for the four reads: read in parallel on separate connections, a completion
      // committing in between could show a closed run whose steps still look Running.
      const [run, steps, attempts, headers] = await this.ctx.db
        .transaction()
        .setIsolationLevel('repeatable read')
        .setAccessMode('read only')
        .execute(async (db) => {
          const run = await db.selectFrom('flow_runs').selectAll().where('id', '=', runId).executeTakeFirst();
          if (!run) return [undefined, [], [], undefined] as const;
          const steps = await db
            .selectFrom('flow_steps')
            .selectAll()
            .where('run_id', '=', runId)
            .orderBy('started_at')
            .orderBy(sql`step_key COLLATE "C"`)
            .execute();
          const attempts = await db
            .selectFrom('flow_step_attempts')
            .selectAll()
            .where('run_id', '=', runId)
            .orderBy('attempt_no')
            .execute();
          const headers = await db
            .selectFrom('flow_outputs')
            .select('value_json')
            .where('run_id', '=', runId)
            .where('key', '=', OutputKeys.triggerHeaders)
            .executeTakeFirst();
          return [run, steps, attempts, headers] as const;
        });
      if (!run) return null;
      const byStep = new Map<string, AttemptRow[]>();
      for (const a of attempts) {
        const list = byStep.get(a.step_key) ?? [];
        list.push(a);
        byStep.set(a.step_key, list);
      }
      return runRecord(run, {
        steps: steps.map((s: StepRow) => stepRecord(s, byStep.get(s.step_key) ?? [])),
        triggerHeaders: headersFromJsonText(headers?.value_json ?? null),
      });
    });
  }

  async getStatistics(): Promise<DashboardStatistics> {
    const dayStart = startOfUtcDay(this.ctx.clock.now());
    const dayEnd = new Date(dayStart.getTime() + DAY_MS);
    return guard('runs.getStatistics', async () => {
      const result = await sql<{ flows: string; active: string; succeeded: string; failed: string }>`
        SELECT
          (SELECT COUNT(*) FROM ${table(this.ctx, 'flow_definitions')}) AS flows,
          (SELECT COUNT(*) FROM ${table(this.ctx, 'flow_runs')} WHERE status = 'Running') AS active,
          COUNT(*) FILTER (WHERE status = 'Succeeded') AS succeeded,
          COUNT(*) FILTER (WHERE status = 'Failed') AS failed
        FROM ${table(this.ctx, 'flow_runs')}
        WHERE completed_at >= ${dayStart} AND completed_at < ${dayEnd}`.execute(this.ctx.db);
      const row = result.rows[0]!;
      return {
        totalFlows: toNumber(row.flows),
        activeRuns: toNumber(row.active),
        completedToday: toNumber(row.succeeded),
        failedToday: toNumber(row.failed),
      };
    });
  }

  async getRunTimeseries(query: TimeseriesQuery): Promise<RunTimeseriesBucket[]> {
    const { anchor, sizeMs, count } = timeseriesWindow(query);
    if (count === 0) return [];
    const until = new Date(anchor.getTime() + sizeMs * count);
    return guard('runs.getRunTimeseries', async () => {
      let q = this.ctx.db
        .selectFrom('flow_runs')
        .select(['started_at', 'completed_at', 'status'])
        .where('started_at', '>=', anchor)
        .where('started_at', '<', until);
      if (query.flowId) q = q.where('flow_id', '=', query.flowId);
      const rows = await q.execute();
      return buildTimeseries(
        query,
        rows.map((r) => ({ startedAt: r.started_at, completedAt: r.completed_at, status: r.status })),
      );
    });
  }

  async getActiveRuns(limit?: number): Promise<FlowRunRecord[]> {
    return guard('runs.getActiveRuns', async () => {
      let q = this.ctx.db
        .selectFrom('flow_runs')
        .selectAll()
        .where('status', '=', 'Running')
        .orderBy('started_at', 'desc')
        .orderBy('id');
      if (limit !== undefined && limit >= 0) q = q.limit(Math.trunc(limit));
      return (await q.execute()).map((r) => runRecord(r));
    });
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

  async getDispatchedStepKeys(runId: string): Promise<Set<string>> {
    return guard('runs.getDispatchedStepKeys', async () => {
      const rows = await this.ctx.db
        .selectFrom('flow_step_dispatches')
        .select('step_key')
        .where('run_id', '=', runId)
        .execute();
      return new Set(rows.map((r) => r.step_key));
    });
  }
}

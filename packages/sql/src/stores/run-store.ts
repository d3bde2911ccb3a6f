import {
  buildTimeseries,
  type DashboardStatistics,
  type FlowRunPage,
  type FlowRunRecord,
  type FlowRunStore,
  headersFromJsonText,
  OutputKeys,
  type RunQuery,
  type RunStatus,
  type RunTimeseriesBucket,
  type StartRunInput,
  type StepCompleteInput,
  type StepStartInput,
  startOfUtcDay,
  type TerminalRunStatus,
  type TimeseriesQuery,
  timeseriesWindow,
} from '@floworch/core/backend';
import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import type { LogicalDatabase } from '../schema.js';
import type { SqlLayer, SqlTraits } from '../traits.js';
import { toDate, toDateOrNull, toNumber } from '../values.js';
import { type AttemptRow, runRecord, stepRecord } from './run-records.js';

const DAY_MS = 86_400_000;

type RunsScope = ExpressionBuilder<LogicalDatabase & { r: LogicalDatabase['flowRuns'] }, 'r'>;

/** Case-insensitive literal substring over the run's fields and every step and attempt row. */
function searchCondition(eb: RunsScope, traits: SqlTraits, search: string): Expression<SqlBool> {
  const contains = (column: string) => traits.containsIgnoringCase(column, search);
  return eb.or([
    traits.containsIgnoringCase(traits.idText('r.id'), search),
    contains('r.flowName'),
    contains('r.triggerKey'),
    contains('r.status'),
    contains('r.backgroundJobId'),
    eb.exists(
      eb
        .selectFrom('flowSteps as s')
        .select('s.stepKey')
        .whereRef('s.runId', '=', 'r.id')
        .where(() => eb.or([contains('s.stepKey'), contains('s.errorMessage'), contains('s.outputJson')])),
    ),
    eb.exists(
      eb
        .selectFrom('flowStepAttempts as a')
        .select('a.stepKey')
        .whereRef('a.runId', '=', 'r.id')
        .where(() => eb.or([contains('a.stepKey'), contains('a.errorMessage'), contains('a.outputJson')])),
    ),
  ]);
}

/**
 * The run store's reads, written once: paging with filters and literal search, run detail,
 * dashboard counters, time series, active and derived runs, the dispatch ledger's keys. The
 * writes are locking batches each backend spells itself, so they stay abstract here.
 */
export abstract class SqlRunStore implements FlowRunStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(protected readonly layer: SqlLayer) {}

  abstract startRun(input: StartRunInput): Promise<FlowRunRecord>;
  abstract recordStepStart(input: StepStartInput): Promise<boolean>;
  abstract recordStepComplete(input: StepCompleteInput): Promise<boolean>;
  abstract completeRun(runId: string, status: RunStatus): Promise<void>;
  abstract completeRunIfActive(runId: string, status: TerminalRunStatus): Promise<boolean>;
  abstract retryStep(runId: string, stepKey: string): Promise<void>;
  abstract resetCascadeSkippedDependents(runId: string, stepKeys: readonly string[]): Promise<void>;
  abstract tryRecordDispatch(runId: string, stepKey: string): Promise<boolean>;
  abstract annotateDispatch(runId: string, stepKey: string, jobId: string): Promise<void>;
  abstract releaseDispatch(runId: string, stepKey: string): Promise<void>;

  async getDerivedRuns(sourceRunId: string): Promise<FlowRunRecord[]> {
    const { db, traits } = this.layer;
    const source = traits.id(sourceRunId, 'sourceRunId');
    return this.layer.run('runs.getDerivedRuns', async () => {
      const rows = await db
        .selectFrom('flowRuns as r')
        .selectAll('r')
        .where('r.sourceRunId', '=', source)
        .orderBy('r.startedAt', 'desc')
        .orderBy(traits.ordinalId('r.id'))
        .execute();
      return rows.map((row) => runRecord(row));
    });
  }

  async getRuns(query?: RunQuery): Promise<FlowRunRecord[]> {
    return [...(await this.getRunsPage(query)).runs];
  }

  async getRunsPage(query: RunQuery = {}): Promise<FlowRunPage> {
    const { db, traits } = this.layer;
    // The storage guard has clamped both before any call reaches a backend.
    const skip = query.skip ?? 0;
    const take = query.take ?? 0;
    const flowId = query.flowId ? traits.id(query.flowId, 'flowId') : null;
    return this.layer.run('runs.getRunsPage', async () => {
      const filtered = db.selectFrom('flowRuns as r').where((eb) => {
        const all: Expression<SqlBool>[] = [];
        if (flowId) all.push(eb('r.flowId', '=', flowId));
        const status = query.status?.trim();
        if (status) all.push(traits.equalsIgnoringCase('r.status', status));
        const search = query.search?.trim();
        if (search) all.push(searchCondition(eb, traits, search));
        return eb.and(all);
      });
      const count = await filtered.select((eb) => eb.fn.countAll().as('total')).executeTakeFirstOrThrow();
      const totalCount = toNumber(count.total);
      // An empty page is answered from the count (SQL Server refuses to fetch zero rows).
      if (take === 0 || skip >= totalCount) return { runs: [], totalCount };
      const rows = await filtered
        .selectAll('r')
        .orderBy('r.startedAt', 'desc')
        .orderBy(traits.ordinalId('r.id'))
        .offset(skip)
        .fetch(take)
        .execute();
      return { runs: rows.map((row) => runRecord(row)), totalCount };
    });
  }

  async getRunDetail(runId: string): Promise<FlowRunRecord | null> {
    const { traits } = this.layer;
    const id = traits.id(runId, 'runId');
    const headersKey = traits.key(OutputKeys.triggerHeaders, 'output key');
    return this.layer.run('runs.getRunDetail', async () => {
      // The run is read first and with its steps in one snapshot where possible: a completion
      // closes the run together with its steps, so a closed run never shows a step Running.
      const detail = await this.layer.readTogether(async (db) => {
        const run = await db.selectFrom('flowRuns').selectAll().where('id', '=', id).executeTakeFirst();
        if (!run) return undefined;
        const steps = await db
          .selectFrom('flowSteps')
          .selectAll()
          .where('runId', '=', id)
          .orderBy('startedAt')
          .orderBy(traits.ordinal('stepKey'))
          .execute();
        const attempts = await db
          .selectFrom('flowStepAttempts')
          .selectAll()
          .where('runId', '=', id)
          .orderBy('attemptNo')
          .execute();
        const headers = await db
          .selectFrom('flowOutputs')
          .select('valueJson')
          .where('runId', '=', id)
          .where('key', '=', headersKey)
          .executeTakeFirst();
        return { run, steps, attempts, headers };
      });
      if (!detail) return null;
      const byStep = new Map<string, AttemptRow[]>();
      for (const attempt of detail.attempts) {
        const list = byStep.get(attempt.stepKey);
        if (list) list.push(attempt);
        else byStep.set(attempt.stepKey, [attempt]);
      }
      const record = runRecord(detail.run);
      return {
        ...record,
        steps: detail.steps.map((s) => stepRecord(record.id, s, byStep.get(s.stepKey) ?? [])),
        triggerHeaders: headersFromJsonText(detail.headers?.valueJson ?? null),
      };
    });
  }

  async getStatistics(): Promise<DashboardStatistics> {
    const { db, traits } = this.layer;
    const dayStart = startOfUtcDay(this.layer.now());
    const from = traits.instant(dayStart);
    const to = traits.instant(new Date(dayStart.getTime() + DAY_MS));
    return this.layer.run('runs.getStatistics', async () => {
      const row = await db
        .selectNoFrom((eb) => {
          const runs = (status: string) =>
            eb.selectFrom('flowRuns').select(eb.fn.countAll().as('n')).where('status', '=', status);
          const closedToday = (status: string) =>
            runs(status).where('completedAt', '>=', from).where('completedAt', '<', to);
          return [
            eb.selectFrom('flowDefinitions').select(eb.fn.countAll().as('n')).as('totalFlows'),
            runs('Running').as('activeRuns'),
            closedToday('Succeeded').as('completedToday'),
            closedToday('Failed').as('failedToday'),
          ];
        })
        .executeTakeFirstOrThrow();
      return {
        totalFlows: toNumber(row.totalFlows ?? 0),
        activeRuns: toNumber(row.activeRuns ?? 0),
        completedToday: toNumber(row.completedToday ?? 0),
        failedToday: toNumber(row.failedToday ?? 0),
      };
    });
  }

  async getRunTimeseries(query: TimeseriesQuery): Promise<RunTimeseriesBucket[]> {
    const { db, traits } = this.layer;
    const { anchor, sizeMs, count } = timeseriesWindow(query);
    if (count === 0) return [];
    const since = traits.instant(anchor);
    const until = traits.instant(new Date(anchor.getTime() + sizeMs * count));
    const flowId = query.flowId ? traits.id(query.flowId, 'flowId') : null;
    return this.layer.run('runs.getRunTimeseries', async () => {
      let select = db
        .selectFrom('flowRuns')
        .select(['startedAt', 'completedAt', 'status'])
        .where('startedAt', '>=', since)
        .where('startedAt', '<', until);
      if (flowId) select = select.where('flowId', '=', flowId);
      const rows = await select.execute();
      // Bucketing and percentiles are core's, so every backend reports identical numbers.
      return buildTimeseries(
        query,
        rows.map((r) => ({
          startedAt: toDate(r.startedAt),
          completedAt: toDateOrNull(r.completedAt),
          status: r.status,
        })),
      );
    });
  }

  async getActiveRuns(limit?: number): Promise<FlowRunRecord[]> {
    const { db, traits } = this.layer;
    const bounded = limit !== undefined && Number.isFinite(limit) && limit >= 0;
    const max = bounded ? Math.trunc(limit) : 0;
    if (bounded && max === 0) return [];
    return this.layer.run('runs.getActiveRuns', async () => {
      const newestFirst = db
        .selectFrom('flowRuns as r')
        .selectAll('r')
        .where('r.status', '=', 'Running')
        .orderBy('r.startedAt', 'desc')
        .orderBy(traits.ordinalId('r.id'));
      const rows = await (bounded ? newestFirst.offset(0).fetch(max) : newestFirst).execute();
      return rows.map((row) => runRecord(row));
    });
  }

  async getDispatchedStepKeys(runId: string): Promise<Set<string>> {
    const { db, traits } = this.layer;
    const id = traits.id(runId, 'runId');
    return this.layer.run('runs.getDispatchedStepKeys', async () => {
      const rows = await db
        .selectFrom('flowStepDispatches')
        .select('stepKey')
        .where('runId', '=', id)
        .execute();
      return new Set(rows.map((r) => r.stepKey));
    });
  }
}

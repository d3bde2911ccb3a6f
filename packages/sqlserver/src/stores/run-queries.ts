import type {
  DashboardStatistics,
  FlowRunPage,
  FlowRunRecord,
  RunQuery,
  RunTimeseriesBucket,
  TimeseriesQuery,
} from '@floworch/core/backend';
import {
  buildTimeseries,
  clampRunPage,
  headersFromJsonText,
  OutputKeys,
  startOfUtcDay,
  timeseriesWindow,
} from '@floworch/core/backend';
import { type RawBuilder, sql } from 'kysely';
import { query, queryFirst, type SqlContext } from '../sql/context.js';
import { containsPattern } from '../sql/like.js';
import { CI_COLLATION, KEY_COLLATION } from '../sql/names.js';
import { key, toDate, toDateOrNull, toNumber, ts, uuid } from '../sql/values.js';
import { RUN_COLUMNS, type RunRow, runRecord, STEP_COLUMNS, type StepRow, stepRecord } from './run-rows.js';

const DAY_MS = 86_400_000;
const CI = sql.raw(`COLLATE ${CI_COLLATION}`);
const BIN = sql.raw(`COLLATE ${KEY_COLLATION}`);

/** `col COLLATE <CI> LIKE @p ESCAPE N'\'`: a case-insensitive literal substring test on `@p`. */
function like(column: string): RawBuilder<unknown> {
  return sql`${sql.raw(column)} ${CI} LIKE @p ESCAPE N'\\'`;
}

/**
 * Newest first; the id tie-break compares the text form ordinally, which orders like the
 * lower-case ids the API hands out.
 */
const NEWEST_FIRST = sql`ORDER BY r.[StartedAt] DESC, CONVERT(NCHAR(36), r.[Id]) ${BIN}`;

/** The `DECLARE @p …;` prelude and `WHERE …` clause of a run query. */
function runFilter(
  ctx: SqlContext,
  q: RunQuery,
): { prelude: RawBuilder<unknown>; where: RawBuilder<unknown> } {
  const parts: RawBuilder<unknown>[] = [];
  if (q.flowId) parts.push(sql`r.[FlowId] = ${uuid(q.flowId, 'flowId')}`);
  const status = q.status?.trim();
  if (status) parts.push(sql`r.[Status] ${CI} = ${status}`);
  const search = q.search?.trim();
  let prelude: RawBuilder<unknown> = sql``;
  if (search) {
    // One variable carries the escaped pattern into all eleven comparisons.
    prelude = sql`DECLARE @p NVARCHAR(MAX) = ${containsPattern(search)};\n`;
    const fields = (alias: string) =>
      sql.join(
        ['StepKey', 'ErrorMessage', 'OutputJson'].map((c) => like(`${alias}.[${c}]`)),
        sql` OR `,
      );
    parts.push(sql`(${like('CONVERT(NVARCHAR(36), r.[Id])')} OR ${like('r.[FlowName]')} OR ${like('r.[TriggerKey]')}
  OR ${like('r.[Status]')} OR ${like('r.[BackgroundJobId]')}
  OR EXISTS (SELECT 1 FROM ${ctx.n.table('FlowSteps')} AS s WHERE s.[RunId] = r.[Id] AND (${fields('s')}))
  OR EXISTS (SELECT 1 FROM ${ctx.n.table('FlowStepAttempts')} AS a WHERE a.[RunId] = r.[Id] AND (${fields('a')})))`);
  }
  const where = parts.length > 0 ? sql`WHERE ${sql.join(parts, sql` AND `)}` : sql``;
  return { prelude, where };
}

/** `getRunsPage`: a count, then (only when the page can hold rows) an ordered OFFSET/FETCH page. */
export async function runsPage(ctx: SqlContext, q: RunQuery): Promise<FlowRunPage> {
  const { skip, take } = clampRunPage(q.skip, q.take);
  const { prelude, where } = runFilter(ctx, q);
  const runs = ctx.n.table('FlowRuns');
  const count = await queryFirst(
    ctx,
    sql<{ total: number }>`${prelude}SELECT COUNT_BIG(*) AS total FROM ${runs} AS r ${where};`,
  );
  const totalCount = toNumber(count?.total ?? 0);
  // SQL Server rejects FETCH NEXT 0 ROWS: an empty page is answered without a query.
  if (take === 0 || skip >= totalCount) return { runs: [], totalCount };
  const rows = await query(
    ctx,
    sql<RunRow>`${prelude}SELECT ${RUN_COLUMNS} FROM ${runs} AS r ${where}
${NEWEST_FIRST} OFFSET ${skip} ROWS FETCH NEXT ${take} ROWS ONLY;`,
  );
  return { runs: rows.map((row) => runRecord(row)), totalCount };
}

/** Runs re-run from `sourceRunId`, newest first. */
export async function derivedRuns(ctx: SqlContext, sourceRunId: string): Promise<FlowRunRecord[]> {
  const rows = await query(
    ctx,
    sql<RunRow>`SELECT ${RUN_COLUMNS} FROM ${ctx.n.table('FlowRuns')} AS r WHERE r.[SourceRunId] = ${sourceRunId}
${NEWEST_FIRST};`,
  );
  return rows.map((row) => runRecord(row));
}

/** `Running` runs, newest first, at most `limit` when given. */
export async function activeRuns(ctx: SqlContext, limit?: number): Promise<FlowRunRecord[]> {
  const bounded = limit !== undefined && Number.isFinite(limit) && limit >= 0;
  const top = bounded ? Math.trunc(limit) : 0;
  if (bounded && top === 0) return [];
  const rows = await query(
    ctx,
    sql<RunRow>`SELECT ${bounded ? sql`TOP (${top}) ` : sql``}${RUN_COLUMNS} FROM ${ctx.n.table('FlowRuns')} AS r
WHERE r.[Status] = N'Running'
${NEWEST_FIRST};`,
  );
  return rows.map((row) => runRecord(row));
}

/** A run with its trigger headers, steps (by start) and their attempts (ascending). */
export async function runDetail(ctx: SqlContext, runId: string): Promise<FlowRunRecord | null> {
  const { n } = ctx;
  const run = await queryFirst(
    ctx,
    sql<RunRow>`SELECT ${RUN_COLUMNS} FROM ${n.table('FlowRuns')} AS r WHERE r.[Id] = ${runId};`,
  );
  if (!run) return null;
  // The run row is read before its steps on purpose: a completion writes steps and closes the run
  // in one transaction, so a closed run read here never comes with a step still shown Running.
  const [steps, attempts, headers] = await Promise.all([
    query(
      ctx,
      sql<StepRow>`SELECT ${STEP_COLUMNS} FROM ${n.table('FlowSteps')} WHERE [RunId] = ${runId}
ORDER BY [StartedAt], [StepKey];`,
    ),
    query(
      ctx,
      sql<StepRow>`SELECT [AttemptNo], ${STEP_COLUMNS} FROM ${n.table('FlowStepAttempts')} WHERE [RunId] = ${runId}
ORDER BY [StepKey], [AttemptNo];`,
    ),
    queryFirst(
      ctx,
      sql<{ ValueJson: string | null }>`SELECT [ValueJson] FROM ${n.table('FlowOutputs')}
WHERE [RunId] = ${runId} AND [Key] = ${key(OutputKeys.triggerHeaders, 'output key')};`,
    ),
  ]);
  const byKey = new Map<string, StepRow[]>();
  for (const a of attempts) {
    const list = byKey.get(a.StepKey);
    if (list) list.push(a);
    else byKey.set(a.StepKey, [a]);
  }
  const id = runId.toLowerCase();
  return runRecord(run, {
    steps: steps.map((s) => stepRecord(id, s, byKey.get(s.StepKey) ?? [])),
    triggerHeaders: headersFromJsonText(headers?.ValueJson ?? null),
  });
}

/** Dashboard counters for the current UTC day of the store's clock. */
export async function statistics(ctx: SqlContext): Promise<DashboardStatistics> {
  const { n } = ctx;
  const dayStart = startOfUtcDay(ctx.clock.now());
  const dayEnd = new Date(dayStart.getTime() + DAY_MS);
  const row = await queryFirst(
    ctx,
    sql<{
      totalFlows: number;
      activeRuns: number;
      completedToday: number;
      failedToday: number;
    }>`DECLARE @dayStart DATETIMEOFFSET(7) = ${ts(dayStart)}, @dayEnd DATETIMEOFFSET(7) = ${ts(dayEnd)};
SELECT
  (SELECT COUNT_BIG(*) FROM ${n.table('FlowDefinitions')}) AS totalFlows,
  (SELECT COUNT_BIG(*) FROM ${n.table('FlowRuns')} WHERE [Status] = N'Running') AS activeRuns,
  (SELECT COUNT_BIG(*) FROM ${n.table('FlowRuns')} WHERE [Status] = N'Succeeded' AND [CompletedAt] >= @dayStart AND [CompletedAt] < @dayEnd) AS completedToday,
  (SELECT COUNT_BIG(*) FROM ${n.table('FlowRuns')} WHERE [Status] = N'Failed' AND [CompletedAt] >= @dayStart AND [CompletedAt] < @dayEnd) AS failedToday;`,
  );
  return {
    totalFlows: toNumber(row?.totalFlows ?? 0),
    activeRuns: toNumber(row?.activeRuns ?? 0),
    completedToday: toNumber(row?.completedToday ?? 0),
    failedToday: toNumber(row?.failedToday ?? 0),
  };
}

/**
 * Zero-filled buckets. Rows come from the database (`since <= StartedAt < until`); bucketing and
 * percentiles use the shared core helper, so every backend reports identical numbers.
 */
export async function runTimeseries(ctx: SqlContext, q: TimeseriesQuery): Promise<RunTimeseriesBucket[]> {
  if (timeseriesWindow(q).count === 0) return [];
  const flow = q.flowId ? sql`AND [FlowId] = ${uuid(q.flowId, 'flowId')}` : sql``;
  const rows = await query(
    ctx,
    sql<{
      StartedAt: Date;
      CompletedAt: Date | null;
      Status: string;
    }>`SELECT [StartedAt], [CompletedAt], [Status]
FROM ${ctx.n.table('FlowRuns')} WHERE [StartedAt] >= ${ts(q.since)} AND [StartedAt] < ${ts(q.until)} ${flow};`,
  );
  return buildTimeseries(
    q,
    rows.map((r) => ({
      startedAt: toDate(r.StartedAt),
      completedAt: toDateOrNull(r.CompletedAt),
      status: r.Status,
    })),
  );
}

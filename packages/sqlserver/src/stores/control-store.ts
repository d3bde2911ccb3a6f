import type { FlowRunControlRecord, FlowRunControlStore, OverdueRun } from '@floworch/core';
import type { ConfigureRunInput } from '@floworch/core/backend';
import { clampLimit, EMPTY_UUID, normalizeIdempotencyPart } from '@floworch/core/backend';
import { type RawBuilder, sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext, tryInsert } from '../sql/context.js';
import { KEY_COLLATION } from '../sql/names.js';
import { key, toBool, toDate, toDateOrNull, toUuid, ts, tsOrNull, uuid } from '../sql/values.js';

const DEFAULT_TIMEOUT_REASON = 'Run timed out.';

interface ControlRow {
  RunId: string;
  FlowId: string;
  TriggerKey: string;
  IdempotencyKey: string | null;
  CreatedAt: Date;
  TimeoutAtUtc: Date | null;
  CancelRequested: boolean;
  CancelReason: string | null;
  CancelRequestedAtUtc: Date | null;
  TimedOutAtUtc: Date | null;
}

/** SQL Server {@link FlowRunControlStore}: cancel, timeouts, deadlines and idempotency keys. */
export class SqlServerControlStore implements FlowRunControlStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async configureRun(input: ConfigureRunInput): Promise<void> {
    const run = uuid(input.runId, 'runId');
    const flow = uuid(input.flowId, 'flowId');
    const idem = input.idempotencyKey?.trim() || null;
    const timeout = tsOrNull(input.timeoutAt);
    // Upsert under a key-range lock; an update leaves cancel/timeout state alone.
    await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`MERGE ${this.ctx.n.table('FlowRunControls')} WITH (HOLDLOCK) AS t
USING (SELECT CONVERT(UNIQUEIDENTIFIER, ${run}) AS [RunId]) AS s ON t.[RunId] = s.[RunId]
WHEN MATCHED THEN UPDATE SET [FlowId] = ${flow}, [TriggerKey] = ${input.triggerKey}, [IdempotencyKey] = ${idem}, [TimeoutAtUtc] = ${timeout}
WHEN NOT MATCHED THEN INSERT ([RunId], [FlowId], [TriggerKey], [IdempotencyKey], [TimeoutAtUtc], [CancelRequested], [CreatedAt])
  VALUES (s.[RunId], ${flow}, ${input.triggerKey}, ${idem}, ${timeout}, 0, ${ts(this.ctx.clock.now())});`,
      ),
    );
  }

  async getRunControl(runId: string): Promise<FlowRunControlRecord | null> {
    const row = await queryFirst(
      this.ctx,
      sql<ControlRow>`SELECT [RunId], [FlowId], [TriggerKey], [IdempotencyKey], [CreatedAt], [TimeoutAtUtc], [CancelRequested],
  [CancelReason], [CancelRequestedAtUtc], [TimedOutAtUtc]
FROM ${this.ctx.n.table('FlowRunControls')} WHERE [RunId] = ${uuid(runId, 'runId')};`,
    );
    if (!row) return null;
    return {
      runId: toUuid(row.RunId),
      flowId: toUuid(row.FlowId),
      triggerKey: row.TriggerKey,
      idempotencyKey: row.IdempotencyKey,
      createdAt: toDate(row.CreatedAt),
      timeoutAt: toDateOrNull(row.TimeoutAtUtc),
      cancelRequested: toBool(row.CancelRequested),
      cancelReason: row.CancelReason,
      cancelRequestedAt: toDateOrNull(row.CancelRequestedAtUtc),
      timedOutAt: toDateOrNull(row.TimedOutAtUtc),
    };
  }

  /**
   * Runs a guarded transition on the control row, creating the row first when it is missing
   * (cancel and timeout work on runs that have none yet). `update` must end with a `WHERE` that makes it a no-op once applied; the
   * batch answers whether this call changed the row.
   */
  private async transition(runId: string, update: RawBuilder<unknown>): Promise<boolean> {
    const controls = this.ctx.n.table('FlowRunControls');
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<{ changed: number }>`SET XACT_ABORT ON;
DECLARE @run UNIQUEIDENTIFIER = ${uuid(runId, 'runId')}, @now DATETIMEOFFSET(7) = ${ts(this.ctx.clock.now())}, @changed INT;
BEGIN TRANSACTION;
IF NOT EXISTS (SELECT 1 FROM ${controls} WITH (UPDLOCK, HOLDLOCK) WHERE [RunId] = @run)
  INSERT INTO ${controls} ([RunId], [FlowId], [TriggerKey], [CancelRequested], [CreatedAt])
    VALUES (@run, ${EMPTY_UUID}, N'', 0, @now);
${update}
SET @changed = @@ROWCOUNT;
COMMIT TRANSACTION;
SELECT @changed AS changed;`,
      ),
    );
    return (row?.changed ?? 0) > 0;
  }

  async requestCancel(runId: string, reason?: string | null): Promise<boolean> {
    return this.transition(
      runId,
      sql`UPDATE ${this.ctx.n.table('FlowRunControls')}
  SET [CancelRequested] = 1, [CancelReason] = ${reason ?? null}, [CancelRequestedAtUtc] = ISNULL([CancelRequestedAtUtc], @now)
  WHERE [RunId] = @run AND [CancelRequested] = 0;`,
    );
  }

  async markTimedOut(runId: string, reason?: string | null): Promise<boolean> {
    return this.transition(
      runId,
      sql`UPDATE ${this.ctx.n.table('FlowRunControls')}
  SET [TimedOutAtUtc] = @now, [CancelRequested] = 1, [CancelRequestedAtUtc] = ISNULL([CancelRequestedAtUtc], @now),
      [CancelReason] = COALESCE(${reason ?? null}, [CancelReason], ${DEFAULT_TIMEOUT_REASON})
  WHERE [RunId] = @run AND [TimedOutAtUtc] IS NULL;`,
    );
  }

  async extendDeadline(runId: string, newTimeoutAt: Date): Promise<boolean> {
    // A cancel flag stamped together with the timeout came from it and is lifted with it; an
    // earlier, explicit cancel stays. SET expressions all read the pre-update row.
    const fromTimeout = sql`[TimedOutAtUtc] IS NOT NULL AND [CancelRequestedAtUtc] = [TimedOutAtUtc]`;
    const rows = await query(
      this.ctx,
      sql`UPDATE ${this.ctx.n.table('FlowRunControls')}
SET [TimeoutAtUtc] = ${ts(newTimeoutAt)},
    [CancelRequested] = CASE WHEN ${fromTimeout} THEN 0 ELSE [CancelRequested] END,
    [CancelReason] = CASE WHEN ${fromTimeout} THEN NULL ELSE [CancelReason] END,
    [CancelRequestedAtUtc] = CASE WHEN ${fromTimeout} THEN NULL ELSE [CancelRequestedAtUtc] END,
    [TimedOutAtUtc] = NULL
OUTPUT inserted.[RunId]
WHERE [RunId] = ${uuid(runId, 'runId')};`,
    );
    return rows.length > 0;
  }

  async getRunsPastDeadline(limit: number): Promise<OverdueRun[]> {
    const { n } = this.ctx;
    const rows = await query(
      this.ctx,
      sql<{
        RunId: string;
        FlowId: string;
        TimeoutAtUtc: Date;
      }>`SELECT TOP (${clampLimit(limit, 1, 1000, 100)})
  c.[RunId], r.[FlowId], c.[TimeoutAtUtc]
FROM ${n.table('FlowRunControls')} AS c
JOIN ${n.table('FlowRuns')} AS r ON r.[Id] = c.[RunId]
WHERE r.[Status] = N'Running' AND c.[TimeoutAtUtc] IS NOT NULL AND c.[TimeoutAtUtc] <= ${ts(this.ctx.clock.now())}
ORDER BY c.[TimeoutAtUtc], CONVERT(NCHAR(36), c.[RunId]) COLLATE ${sql.raw(KEY_COLLATION)};`,
    );
    return rows.map((r) => ({
      runId: toUuid(r.RunId),
      flowId: toUuid(r.FlowId),
      timeoutAt: toDate(r.TimeoutAtUtc),
    }));
  }

  async findRunIdByIdempotencyKey(
    flowId: string,
    triggerKey: string,
    idemKey: string,
  ): Promise<string | null> {
    const row = await queryFirst(
      this.ctx,
      sql<{ RunId: string }>`SELECT [RunId] FROM ${this.ctx.n.table('FlowIdempotencyKeys')}
WHERE [FlowId] = ${uuid(flowId, 'flowId')} AND [TriggerKey] = ${normalized(triggerKey, 'triggerKey')}
  AND [IdempotencyKey] = ${normalized(idemKey, 'key')};`,
    );
    return row ? toUuid(row.RunId) : null;
  }

  async tryRegisterIdempotencyKey(
    flowId: string,
    triggerKey: string,
    idemKey: string,
    runId: string,
  ): Promise<boolean> {
    const table = this.ctx.n.table('FlowIdempotencyKeys');
    const flow = uuid(flowId, 'flowId');
    const trigger = normalized(triggerKey, 'triggerKey');
    const k = normalized(idemKey, 'key');
    // First writer wins; the guard makes losers see the row instead of a duplicate-key error.
    return tryInsert(
      this.ctx,
      sql`INSERT INTO ${table} ([FlowId], [TriggerKey], [IdempotencyKey], [RunId], [CreatedAtUtc])
OUTPUT inserted.[RunId]
SELECT ${flow}, ${trigger}, ${k}, ${uuid(runId, 'runId')}, ${ts(this.ctx.clock.now())}
WHERE NOT EXISTS (SELECT 1 FROM ${table} WITH (UPDLOCK, HOLDLOCK)
  WHERE [FlowId] = ${flow} AND [TriggerKey] = ${trigger} AND [IdempotencyKey] = ${k});`,
    );
  }
}

function normalized(value: string, what: string): string {
  return key(normalizeIdempotencyPart(value), what);
}

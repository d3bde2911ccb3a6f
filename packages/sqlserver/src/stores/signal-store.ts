import type {
  FlowSignalStore,
  FlowSignalWaiter,
  SignalDeliveryResult,
  SignalDeliveryStatus,
} from '@floworch/core';
import { normalizeSignalName } from '@floworch/core/backend';
import { type RawBuilder, sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import { key, stepVars, toDate, toDateOrNull, toUuid, ts, tsOrNull, uuid } from '../sql/values.js';

interface WaiterRow {
  RunId: string;
  StepKey: string;
  SignalName: string;
  CreatedAt: Date;
  ExpiresAt: Date | null;
  DeliveredAt: Date | null;
  PayloadJson: string | null;
}

/** SQL Server {@link FlowSignalStore} over `FlowSignalWaiters` (names compare in binary collation). */
export class SqlServerSignalStore implements FlowSignalStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async registerWaiter(
    runId: string,
    stepKey: string,
    signalName: string,
    expiresAt: Date | null,
  ): Promise<void> {
    const { n } = this.ctx;
    const name = key(normalizeSignalName(signalName), 'signalName');
    const expires = tsOrNull(expiresAt);
    // Re-registering updates name and expiry only: it never un-delivers or resets createdAt.
    await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`${stepVars(runId, stepKey, this.ctx.clock.now())}
MERGE ${n.table('FlowSignalWaiters')} WITH (HOLDLOCK) AS t
USING (SELECT @run AS [RunId], @key AS [StepKey]) AS s ON t.[RunId] = s.[RunId] AND t.[StepKey] = s.[StepKey]
WHEN MATCHED THEN UPDATE SET [SignalName] = ${name}, [ExpiresAt] = ${expires}
WHEN NOT MATCHED THEN INSERT ([RunId], [StepKey], [SignalName], [CreatedAt], [ExpiresAt], [DeliveredAt], [PayloadJson])
  VALUES (s.[RunId], s.[StepKey], ${name}, @now, ${expires}, NULL, NULL);`,
      ),
    );
  }

  /** The delivery batch (exposed for statement tests). */
  deliverStatement(
    runId: string,
    signalName: string,
    payloadJson: string,
  ): RawBuilder<{ status: SignalDeliveryStatus; StepKey: string; DeliveredAt: Date | null }> {
    const { n } = this.ctx;
    const waiters = n.table('FlowSignalWaiters');
    const name = key(normalizeSignalName(signalName), 'signalName');
    const oldestUndelivered = (hints: string) => sql`;WITH target AS (
  SELECT TOP (1) [DeliveredAt], [PayloadJson], [StepKey] FROM ${waiters} WITH (${sql.raw(hints)})
  WHERE [RunId] = @run AND [SignalName] = @name AND [DeliveredAt] IS NULL
  ORDER BY [CreatedAt], [RegisteredSeq]
)
UPDATE target SET [DeliveredAt] = @now, [PayloadJson] = @payload
  OUTPUT inserted.[StepKey], inserted.[DeliveredAt] INTO @hit ([StepKey], [DeliveredAt]);`;
    // First pass takes the oldest undelivered waiter nobody else holds (READPAST skips rows another
    // delivery has locked). Only when that finds nothing does a blocking pass wait for in-flight
    // deliveries to finish, so a concurrent loser answers AlreadyDelivered, never NotFound.
    return sql`SET XACT_ABORT ON;
DECLARE @run UNIQUEIDENTIFIER = ${uuid(runId, 'runId')}, @now DATETIMEOFFSET(7) = ${ts(this.ctx.clock.now())};
DECLARE @name NVARCHAR(256) = ${name}, @payload NVARCHAR(MAX) = ${payloadJson};
DECLARE @hit TABLE ([StepKey] NVARCHAR(256) NOT NULL, [DeliveredAt] DATETIMEOFFSET(7) NOT NULL);
BEGIN TRANSACTION;
${oldestUndelivered('UPDLOCK, ROWLOCK, READPAST')}
IF NOT EXISTS (SELECT 1 FROM @hit)
BEGIN
  ${oldestUndelivered('UPDLOCK, ROWLOCK')}
END;
COMMIT TRANSACTION;
IF EXISTS (SELECT 1 FROM @hit)
  SELECT TOP (1) N'Delivered' AS [status], [StepKey], [DeliveredAt] FROM @hit;
ELSE
  SELECT TOP (1) N'AlreadyDelivered' AS [status], [StepKey], [DeliveredAt] FROM ${waiters}
  WHERE [RunId] = @run AND [SignalName] = @name
  ORDER BY [CreatedAt], [RegisteredSeq];`;
  }

  async deliverSignal(runId: string, signalName: string, payloadJson: string): Promise<SignalDeliveryResult> {
    const row = await retryOnDeadlock(() =>
      queryFirst(this.ctx, this.deliverStatement(runId, signalName, payloadJson)),
    );
    if (!row) return { status: 'NotFound', stepKey: null, deliveredAt: null };
    return { status: row.status, stepKey: row.StepKey, deliveredAt: toDateOrNull(row.DeliveredAt) };
  }

  async getWaiter(runId: string, stepKey: string): Promise<FlowSignalWaiter | null> {
    const row = await queryFirst(
      this.ctx,
      sql<WaiterRow>`SELECT [RunId], [StepKey], [SignalName], [CreatedAt], [ExpiresAt], [DeliveredAt], [PayloadJson]
FROM ${this.ctx.n.table('FlowSignalWaiters')} WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')};`,
    );
    if (!row) return null;
    return {
      runId: toUuid(row.RunId),
      stepKey: row.StepKey,
      signalName: row.SignalName,
      createdAt: toDate(row.CreatedAt),
      expiresAt: toDateOrNull(row.ExpiresAt),
      deliveredAt: toDateOrNull(row.DeliveredAt),
      payloadJson: row.PayloadJson,
    };
  }

  async removeWaiter(runId: string, stepKey: string): Promise<void> {
    await query(
      this.ctx,
      sql`DELETE FROM ${this.ctx.n.table('FlowSignalWaiters')} WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')};`,
    );
  }
}

import {
  normalizeSignalName,
  type SignalDeliveryResult,
  type SignalDeliveryStatus,
} from '@floworch/core/backend';
import { SqlSignalStore } from '@floworch/sql';
import { type RawBuilder, sql } from 'kysely';
import { queryFirst, retryOnDeadlock, type SqlContext, sqlLayer } from '../sql/context.js';
import { key, toDateOrNull, ts, uuid } from '../sql/values.js';

/**
 * SQL Server `FlowSignalStore` over `FlowSignalWaiters` (names compare in binary collation): the
 * shared SQL implementation, plus the delivery batch with its READPAST / blocking passes.
 */
export class SqlServerSignalStore extends SqlSignalStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {
    super(sqlLayer(ctx));
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

  override async deliverSignal(
    runId: string,
    signalName: string,
    payloadJson: string,
  ): Promise<SignalDeliveryResult> {
    const row = await retryOnDeadlock(() =>
      queryFirst(this.ctx, this.deliverStatement(runId, signalName, payloadJson)),
    );
    if (!row) return { status: 'NotFound', stepKey: null, deliveredAt: null };
    return { status: row.status, stepKey: row.StepKey, deliveredAt: toDateOrNull(row.DeliveredAt) };
  }
}

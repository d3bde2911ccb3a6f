import { EMPTY_UUID } from '@floworch/core/backend';
import { SqlControlStore } from '@floworch/sql';
import { type RawBuilder, sql } from 'kysely';
import { queryFirst, retryOnDeadlock, type SqlContext, sqlLayer } from '../sql/context.js';
import { ts, uuid } from '../sql/values.js';

const DEFAULT_TIMEOUT_REASON = 'Run timed out.';

/**
 * SQL Server `FlowRunControlStore`: the shared SQL implementation, plus cancel and timeout, each a
 * guarded transition batch that creates a missing control row under a key-range lock.
 */
export class SqlServerControlStore extends SqlControlStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {
    super(sqlLayer(ctx));
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

  override async requestCancel(runId: string, reason?: string | null): Promise<boolean> {
    return this.transition(
      runId,
      sql`UPDATE ${this.ctx.n.table('FlowRunControls')}
  SET [CancelRequested] = 1, [CancelReason] = ${reason ?? null}, [CancelRequestedAtUtc] = ISNULL([CancelRequestedAtUtc], @now)
  WHERE [RunId] = @run AND [CancelRequested] = 0;`,
    );
  }

  override async markTimedOut(runId: string, reason?: string | null): Promise<boolean> {
    return this.transition(
      runId,
      sql`UPDATE ${this.ctx.n.table('FlowRunControls')}
  SET [TimedOutAtUtc] = @now, [CancelRequested] = 1, [CancelRequestedAtUtc] = ISNULL([CancelRequestedAtUtc], @now),
      [CancelReason] = COALESCE(${reason ?? null}, [CancelReason], ${DEFAULT_TIMEOUT_REASON})
  WHERE [RunId] = @run AND [TimedOutAtUtc] IS NULL;`,
    );
  }
}

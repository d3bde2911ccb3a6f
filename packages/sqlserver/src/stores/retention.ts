import { SqlRetentionSweep } from '@floworch/sql';
import { type RawBuilder, sql } from 'kysely';
import { queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import type { TableName } from '../sql/names.js';
import { toNumber, ts } from '../sql/values.js';

/** Tables holding per-run rows, each keyed by `RunId`. */
const DEPENDENT_TABLES: readonly TableName[] = [
  'FlowStepClaims',
  'FlowStepDispatches',
  'FlowRunControls',
  'FlowIdempotencyKeys',
  'FlowSignalWaiters',
  'FlowOutputs',
  'FlowEvents',
  'FlowStepAttempts',
  'FlowSteps',
];

/** SQL Server `FlowRetentionStore`: the shared sweep loop over one locking batch statement. */
export class SqlServerRetentionStore extends SqlRetentionSweep {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {
    super();
  }

  /**
   * One batch: claim up to `batchSize` expired runs by deleting their run rows, then delete
   * everything that hangs off them, in one transaction. `READPAST` makes concurrent sweepers on
   * other replicas skip the rows this one has locked, so each run is deleted (and counted) once.
   */
  batchStatement(cutoff: Date, batchSize: number): RawBuilder<{ deleted: number }> {
    const { n } = this.ctx;
    const dependents = DEPENDENT_TABLES.map(
      (table) => sql`DELETE x FROM ${n.table(table)} AS x JOIN @ids AS i ON i.[Id] = x.[RunId];`,
    );
    return sql<{ deleted: number }>`SET XACT_ABORT ON;
DECLARE @ids TABLE ([Id] UNIQUEIDENTIFIER NOT NULL PRIMARY KEY);
BEGIN TRANSACTION;
DELETE TOP (${batchSize}) FROM ${n.table('FlowRuns')} WITH (READPAST, ROWLOCK)
  OUTPUT deleted.[Id] INTO @ids ([Id])
  WHERE [Status] <> N'Running' AND [CompletedAt] IS NOT NULL AND [CompletedAt] < ${ts(cutoff)};
${sql.join(dependents, sql`\n`)}
COMMIT TRANSACTION;
SELECT COUNT_BIG(*) AS deleted FROM @ids;`;
  }

  protected async deleteBatch(cutoff: Date, batchSize: number): Promise<number> {
    const row = await retryOnDeadlock(() => queryFirst(this.ctx, this.batchStatement(cutoff, batchSize)));
    return toNumber(row?.deleted ?? 0);
  }

  /** A short batch ends the sweep: `READPAST` only skips rows another sweeper is deleting. */
  protected isLastBatch(deleted: number, batchSize: number): boolean {
    return deleted < batchSize;
  }
}

import type { ClaimLease } from '@floworch/core/backend';
import { SqlRuntimeStore } from '@floworch/sql';
import { sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext, sqlLayer } from '../sql/context.js';
import { key, stepVars, ts } from '../sql/values.js';

/** Terminal step statuses as a T-SQL list: a lapsed lease on such a step is never taken over. */
const TERMINAL = sql.raw(`(N'Succeeded', N'Failed', N'Skipped')`);

/**
 * SQL Server `FlowRunRuntimeStore`: the shared SQL implementation, plus claiming and skip
 * records, each a transaction batch under key-range locks.
 */
export class SqlServerRuntimeStore extends SqlRuntimeStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {
    super(sqlLayer(ctx));
  }

  override async tryClaimStep(runId: string, stepKey: string, lease?: ClaimLease): Promise<boolean> {
    const { n } = this.ctx;
    const now = this.ctx.clock.now();
    const owner = key(lease?.owner ?? '', 'lease.owner');
    const expires = lease ? ts(new Date(now.getTime() + lease.durationMs)) : sql`NULL`;
    // The UPDLOCK + HOLDLOCK probe locks the claim row, or the key range where it would be, until
    // commit: concurrent claimers queue behind it. The first inserts; the others then find the
    // row and may only take it over when its lease lapsed on a non-terminal step, a predicate
    // re-checked under the row's update lock, so exactly one caller wins either way.
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<{ won: number }>`SET XACT_ABORT ON;
${stepVars(runId, stepKey, now)}
DECLARE @owner NVARCHAR(256) = ${owner}, @won INT = 0;
BEGIN TRANSACTION;
IF NOT EXISTS (SELECT 1 FROM ${n.table('FlowStepClaims')} WITH (UPDLOCK, HOLDLOCK, ROWLOCK) WHERE [RunId] = @run AND [StepKey] = @key)
BEGIN
  INSERT INTO ${n.table('FlowStepClaims')} ([RunId], [StepKey], [ClaimedAt], [Owner], [LeaseExpiresAt])
    VALUES (@run, @key, @now, @owner, ${expires});
  SET @won = 1;
END
ELSE
BEGIN
  UPDATE c SET [Owner] = @owner, [ClaimedAt] = @now, [LeaseExpiresAt] = ${expires}
    FROM ${n.table('FlowStepClaims')} AS c WITH (UPDLOCK, ROWLOCK)
    WHERE c.[RunId] = @run AND c.[StepKey] = @key
      AND c.[LeaseExpiresAt] IS NOT NULL AND c.[LeaseExpiresAt] <= @now
      AND NOT EXISTS (SELECT 1 FROM ${n.table('FlowSteps')} AS s
        WHERE s.[RunId] = @run AND s.[StepKey] = @key AND s.[Status] IN ${TERMINAL});
  SET @won = @@ROWCOUNT;
END;
COMMIT TRANSACTION;
SELECT @won AS won;`,
      ),
    );
    return (row?.won ?? 0) > 0;
  }

  override async recordSkippedStep(
    runId: string,
    stepKey: string,
    stepType: string,
    reason?: string | null,
    evaluationTraceJson?: string | null,
  ): Promise<void> {
    const { n } = this.ctx;
    const trace = evaluationTraceJson?.trim() ? evaluationTraceJson : null;
    const why = reason ?? null;
    // Step row and attempt are written in one transaction: readers never see a `Running` flicker.
    await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`SET XACT_ABORT ON;
${stepVars(runId, stepKey, this.ctx.clock.now())}
DECLARE @next INT;
BEGIN TRANSACTION;
SELECT @next = ISNULL(MAX([AttemptNo]), 0) + 1 FROM ${n.table('FlowStepAttempts')} WITH (UPDLOCK, HOLDLOCK)
  WHERE [RunId] = @run AND [StepKey] = @key;
INSERT INTO ${n.table('FlowStepAttempts')}
  ([RunId], [StepKey], [AttemptNo], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
  VALUES (@run, @key, @next, ${stepType}, N'Skipped', NULL, NULL, ${why}, NULL, @now, @now, ${trace});
UPDATE ${n.table('FlowSteps')}
  SET [StepType] = ${stepType}, [Status] = N'Skipped', [InputJson] = NULL, [OutputJson] = NULL, [ErrorMessage] = ${why},
      [JobId] = NULL, [StartedAt] = @now, [CompletedAt] = @now, [EvaluationTraceJson] = ${trace}
  WHERE [RunId] = @run AND [StepKey] = @key;
IF @@ROWCOUNT = 0
  INSERT INTO ${n.table('FlowSteps')}
    ([RunId], [StepKey], [StepType], [Status], [InputJson], [OutputJson], [ErrorMessage], [JobId], [StartedAt], [CompletedAt], [EvaluationTraceJson])
    VALUES (@run, @key, ${stepType}, N'Skipped', NULL, NULL, ${why}, NULL, @now, @now, ${trace});
COMMIT TRANSACTION;`,
      ),
    );
  }
}

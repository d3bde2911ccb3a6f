import {
  type ExpiredClaim,
  type FlowRunRuntimeStore,
  InvalidArgumentError,
  type StepClaimRecord,
  type StepStatus,
} from '@floworch/core';
import { type ClaimLease, parseStepStatus } from '@floworch/core/backend';
import { sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import { key, stepVars, toDate, toDateOrNull, toUuid, ts, uuid } from '../sql/values.js';

/** Terminal step statuses as a T-SQL list: a lapsed lease on such a step is never taken over. */
const TERMINAL = sql.raw(`(N'Succeeded', N'Failed', N'Skipped')`);

interface ClaimRow {
  RunId: string;
  StepKey: string;
  Owner: string;
  ClaimedAt: Date;
  LeaseExpiresAt: Date | null;
}

/** SQL Server {@link FlowRunRuntimeStore}: step statuses, claim leases and skip records. */
export class SqlServerRuntimeStore implements FlowRunRuntimeStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async getStepStatuses(runId: string): Promise<Map<string, StepStatus>> {
    const rows = await query(
      this.ctx,
      sql<{
        StepKey: string;
        Status: string;
      }>`SELECT [StepKey], [Status] FROM ${this.ctx.n.table('FlowSteps')}
WHERE [RunId] = ${uuid(runId, 'runId')};`,
    );
    return new Map(rows.map((r) => [r.StepKey, parseStepStatus(r.Status)]));
  }

  async getClaimedStepKeys(runId: string): Promise<string[]> {
    const rows = await query(
      this.ctx,
      sql<{ StepKey: string }>`SELECT [StepKey] FROM ${this.ctx.n.table('FlowStepClaims')}
WHERE [RunId] = ${uuid(runId, 'runId')} ORDER BY [ClaimedAt], [StepKey];`,
    );
    return rows.map((r) => r.StepKey);
  }

  async getStepClaim(runId: string, stepKey: string): Promise<StepClaimRecord | null> {
    const row = await queryFirst(
      this.ctx,
      sql<ClaimRow>`SELECT [RunId], [StepKey], [Owner], [ClaimedAt], [LeaseExpiresAt] FROM ${this.ctx.n.table('FlowStepClaims')}
WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')};`,
    );
    if (!row) return null;
    return {
      runId: toUuid(row.RunId),
      stepKey: row.StepKey,
      owner: row.Owner,
      claimedAt: toDate(row.ClaimedAt),
      leaseExpiresAt: toDateOrNull(row.LeaseExpiresAt),
    };
  }

  async tryClaimStep(runId: string, stepKey: string, lease?: ClaimLease): Promise<boolean> {
    if (lease && !(lease.durationMs > 0)) {
      throw new InvalidArgumentError('lease.durationMs', 'must be a positive number');
    }
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

  async renewStepClaim(runId: string, stepKey: string, owner: string, durationMs: number): Promise<boolean> {
    if (!(durationMs > 0)) throw new InvalidArgumentError('durationMs', 'must be a positive number');
    const expires = new Date(this.ctx.clock.now().getTime() + durationMs);
    const rows = await query(
      this.ctx,
      sql`UPDATE ${this.ctx.n.table('FlowStepClaims')} WITH (ROWLOCK) SET [LeaseExpiresAt] = ${ts(expires)}
OUTPUT inserted.[StepKey]
WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')} AND [Owner] = ${owner};`,
    );
    return rows.length > 0;
  }

  async releaseStepClaim(runId: string, stepKey: string, owner?: string): Promise<void> {
    // With an owner, a stale worker cannot delete its successor's claim.
    const byOwner = owner === undefined ? sql`` : sql` AND [Owner] = ${owner}`;
    await query(
      this.ctx,
      sql`DELETE FROM ${this.ctx.n.table('FlowStepClaims')}
WHERE [RunId] = ${uuid(runId, 'runId')} AND [StepKey] = ${key(stepKey, 'stepKey')}${byOwner};`,
    );
  }

  async getExpiredClaims(limit: number): Promise<ExpiredClaim[]> {
    const top = Number.isFinite(limit) ? Math.max(0, Math.trunc(limit)) : 0;
    if (top === 0) return [];
    const { n } = this.ctx;
    const rows = await query(
      this.ctx,
      sql<ClaimRow>`SELECT TOP (${top}) c.[RunId], c.[StepKey], c.[Owner], c.[ClaimedAt], c.[LeaseExpiresAt]
FROM ${n.table('FlowStepClaims')} AS c
JOIN ${n.table('FlowRuns')} AS r ON r.[Id] = c.[RunId] AND r.[Status] = N'Running'
WHERE c.[LeaseExpiresAt] IS NOT NULL AND c.[LeaseExpiresAt] <= ${ts(this.ctx.clock.now())}
  AND NOT EXISTS (SELECT 1 FROM ${n.table('FlowSteps')} AS s
    WHERE s.[RunId] = c.[RunId] AND s.[StepKey] = c.[StepKey] AND s.[Status] IN ${TERMINAL})
ORDER BY c.[LeaseExpiresAt], c.[RunId], c.[StepKey];`,
    );
    return rows.map((r) => ({
      runId: toUuid(r.RunId),
      stepKey: r.StepKey,
      owner: r.Owner,
      leaseExpiresAt: toDate(r.LeaseExpiresAt),
    }));
  }

  async recordSkippedStep(
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

  async getRunStatus(runId: string): Promise<string | null> {
    const row = await queryFirst(
      this.ctx,
      sql<{
        Status: string;
      }>`SELECT [Status] FROM ${this.ctx.n.table('FlowRuns')} WHERE [Id] = ${uuid(runId, 'runId')};`,
    );
    return row?.Status ?? null;
  }
}

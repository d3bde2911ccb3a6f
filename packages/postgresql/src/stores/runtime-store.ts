import {
  type ExpiredClaim,
  type FlowRunRuntimeStore,
  InvalidArgumentError,
  type StepClaimRecord,
  type StepStatus,
} from '@floworch/core';
import { type ClaimLease, parseStepStatus } from '@floworch/core/backend';
import { sql } from 'kysely';
import { type PgContext, table, toDate, toDateOrNull } from '../sql/context.js';
import { guard } from '../sql/errors.js';
import { appendAttempt } from './step-writes.js';

/** Step statuses after which a claim can never be taken over (compared case-insensitively). */
const TERMINAL = ['succeeded', 'failed', 'skipped'];

/** PostgreSQL {@link FlowRunRuntimeStore}: step claims with leases and the step-status reads. */
export class PgRuntimeStore implements FlowRunRuntimeStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async getStepStatuses(runId: string): Promise<Map<string, StepStatus>> {
    return guard('runtime.getStepStatuses', async () => {
      const rows = await this.ctx.db
        .selectFrom('flow_steps')
        .select(['step_key', 'status'])
        .where('run_id', '=', runId)
        .orderBy('started_at')
        .execute();
      return new Map(rows.map((r) => [r.step_key, parseStepStatus(r.status)]));
    });
  }

  async getClaimedStepKeys(runId: string): Promise<string[]> {
    return guard('runtime.getClaimedStepKeys', async () => {
      const rows = await this.ctx.db
        .selectFrom('flow_step_claims')
        .select('step_key')
        .where('run_id', '=', runId)
        .orderBy('claimed_at')
        .orderBy(sql`step_key COLLATE "C"`)
        .execute();
      return rows.map((r) => r.step_key);
    });
  }

  async getStepClaim(runId: string, stepKey: string): Promise<StepClaimRecord | null> {
    return guard('runtime.getStepClaim', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_step_claims')
        .selectAll()
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .executeTakeFirst();
      if (!row) return null;
      return {
        runId: row.run_id,
        stepKey: row.step_key,
        owner: row.owner,
        claimedAt: toDate(row.claimed_at),
        leaseExpiresAt: toDateOrNull(row.lease_expires_at),
      };
    });
  }

  async tryClaimStep(runId: string, stepKey: string, lease?: ClaimLease): Promise<boolean> {
    if (lease && !(lease.durationMs > 0))
      throw new InvalidArgumentError('lease.durationMs', 'must be a positive number');
    const now = this.ctx.clock.now();
    const expires = lease ? new Date(now.getTime() + lease.durationMs) : null;
    // Insert-if-absent, or take over a lapsed lease of a step that has not finished. Racing
    // takers queue on the row lock and re-check the WHERE against the winner's row, so one wins.
    const result = await guard('runtime.tryClaimStep', () =>
      sql`
        INSERT INTO ${table(this.ctx, 'flow_step_claims')} AS c (run_id, step_key, claimed_at, owner, lease_expires_at)
        VALUES (${runId}, ${stepKey}, ${now}, ${lease?.owner ?? ''}, ${expires})
        ON CONFLICT (run_id, step_key) DO UPDATE SET
          claimed_at = EXCLUDED.claimed_at, owner = EXCLUDED.owner, lease_expires_at = EXCLUDED.lease_expires_at
        WHERE c.lease_expires_at IS NOT NULL AND c.lease_expires_at <= ${now}
          AND NOT EXISTS (
            SELECT 1 FROM ${table(this.ctx, 'flow_steps')} s
            WHERE s.run_id = c.run_id AND s.step_key = c.step_key AND LOWER(s.status) = ANY(${TERMINAL}::text[]))
        RETURNING 1`.execute(this.ctx.db),
    );
    return result.rows.length > 0;
  }

  async renewStepClaim(runId: string, stepKey: string, owner: string, durationMs: number): Promise<boolean> {
    if (!(durationMs > 0)) throw new InvalidArgumentError('durationMs', 'must be a positive number');
    const expires = new Date(this.ctx.clock.now().getTime() + durationMs);
    const row = await guard('runtime.renewStepClaim', () =>
      this.ctx.db
        .updateTable('flow_step_claims')
        .set({ lease_expires_at: expires })
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .where('owner', '=', owner)
        .returning('owner')
        .executeTakeFirst(),
    );
    return row !== undefined;
  }

  async releaseStepClaim(runId: string, stepKey: string, owner?: string): Promise<void> {
    await guard('runtime.releaseStepClaim', () => {
      let q = this.ctx.db
        .deleteFrom('flow_step_claims')
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey);
      if (owner !== undefined) q = q.where('owner', '=', owner);
      return q.execute();
    });
  }

  async getExpiredClaims(limit: number): Promise<ExpiredClaim[]> {
    const max = Math.max(0, Math.trunc(limit));
    if (max === 0) return [];
    return guard('runtime.getExpiredClaims', async () => {
      const rows = await sql<{ run_id: string; step_key: string; owner: string; lease_expires_at: Date }>`
        SELECT c.run_id, c.step_key, c.owner, c.lease_expires_at
        FROM ${table(this.ctx, 'flow_step_claims')} c
        JOIN ${table(this.ctx, 'flow_runs')} r ON r.id = c.run_id AND r.status = 'Running'
        WHERE c.lease_expires_at IS NOT NULL AND c.lease_expires_at <= ${this.ctx.clock.now()}
          AND NOT EXISTS (
            SELECT 1 FROM ${table(this.ctx, 'flow_steps')} s
            WHERE s.run_id = c.run_id AND s.step_key = c.step_key AND LOWER(s.status) = ANY(${TERMINAL}::text[]))
        ORDER BY c.lease_expires_at, c.run_id, c.step_key COLLATE "C"
        LIMIT ${max}`.execute(this.ctx.db);
      return rows.rows.map((r) => ({
        runId: r.run_id,
        stepKey: r.step_key,
        owner: r.owner,
        leaseExpiresAt: toDate(r.lease_expires_at),
      }));
    });
  }

  async recordSkippedStep(
    runId: string,
    stepKey: string,
    stepType: string,
    reason?: string | null,
    evaluationTraceJson?: string | null,
  ): Promise<void> {
    await guard('runtime.recordSkippedStep', () =>
      appendAttempt(this.ctx, {
        runId,
        stepKey,
        stepType,
        status: 'Skipped',
        inputJson: null,
        jobId: null,
        errorMessage: reason ?? null,
        completed: true,
        evaluationTraceJson: evaluationTraceJson?.trim() ? evaluationTraceJson : null,
      }),
    );
  }

  async getRunStatus(runId: string): Promise<string | null> {
    return guard('runtime.getRunStatus', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_runs')
        .select('status')
        .where('id', '=', runId)
        .executeTakeFirst();
      return row?.status ?? null;
    });
  }
}

import type { ClaimLease } from '@floworch/core/backend';
import { SqlRuntimeStore } from '@floworch/sql';
import { sql } from 'kysely';
import { type PgContext, pgLayer, table } from '../sql/context.js';
import { guard } from '../sql/errors.js';
import { appendAttempt } from './step-writes.js';

/** Step statuses after which a claim can never be taken over (compared case-insensitively). */
const TERMINAL = ['succeeded', 'failed', 'skipped'];

/**
 * PostgreSQL `FlowRunRuntimeStore`: the shared SQL implementation, plus claiming (one guarded
 * upsert) and skip records (through the shared attempt writer).
 */
export class PgRuntimeStore extends SqlRuntimeStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {
    super(pgLayer(ctx));
  }

  override async tryClaimStep(runId: string, stepKey: string, lease?: ClaimLease): Promise<boolean> {
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

  override async recordSkippedStep(
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
}

import type { CleanupOptions, CleanupResult, FlowRetentionStore } from '@floworch/core/backend';
import { sql } from 'kysely';
import { type PgContext, table } from '../sql/context.js';
import { guard } from '../sql/errors.js';

/** Tables whose rows hang off a run by `run_id`, deleted together with it. */
const RUN_CHILDREN = [
  'flow_steps',
  'flow_step_attempts',
  'flow_outputs',
  'flow_events',
  'flow_step_claims',
  'flow_step_dispatches',
  'flow_run_controls',
  'flow_idempotency_keys',
  'flow_signal_waiters',
] as const;

/**
 * PostgreSQL {@link FlowRetentionStore}. Each batch is one statement: it locks up to `batchSize`
 * expired runs with `FOR UPDATE SKIP LOCKED` (so replicas sweeping at once split the work instead
 * of blocking or deadlocking) and deletes them with every dependent row.
 */
export class PgRetentionStore implements FlowRetentionStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async cleanup(cutoff: Date, options: CleanupOptions = {}): Promise<CleanupResult> {
    // The storage guard has clamped the batch size into 1 … 100 000.
    const batchSize = options.batchSize ?? 500;
    let runsDeleted = 0;
    for (;;) {
      options.signal?.throwIfAborted();
      const deleted = await guard('retention.cleanup', () => this.deleteBatch(cutoff, batchSize));
      if (deleted === 0) return { runsDeleted };
      runsDeleted += deleted;
    }
  }

  private async deleteBatch(cutoff: Date, batchSize: number): Promise<number> {
    const children = RUN_CHILDREN.map(
      (name) =>
        sql`${sql.id(`d_${name}`)} AS (DELETE FROM ${table(this.ctx, name)} WHERE run_id IN (SELECT id FROM victims))`,
    );
    const result = await sql<{ id: string }>`
      WITH victims AS (
        SELECT id FROM ${table(this.ctx, 'flow_runs')}
        WHERE status <> 'Running' AND completed_at < ${cutoff}
        ORDER BY completed_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      ),
      ${sql.join(children, sql`,\n`)}
      DELETE FROM ${table(this.ctx, 'flow_runs')} WHERE id IN (SELECT id FROM victims)
      RETURNING id`.execute(this.ctx.db);
    return result.rows.length;
  }
}

import { SqlRetentionSweep } from '@floworch/sql';
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
 * PostgreSQL `FlowRetentionStore`, on the shared sweep loop. Each batch is one statement: it locks
 * up to `batchSize` expired runs with `FOR UPDATE SKIP LOCKED` (so replicas sweeping at once split the work instead
 * of blocking or deadlocking) and deletes them with every dependent row.
 */
export class PgRetentionStore extends SqlRetentionSweep {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {
    super();
  }

  /** The sweep goes on until a batch finds nothing left to delete. */
  protected isLastBatch(deleted: number): boolean {
    return deleted === 0;
  }

  protected deleteBatch(cutoff: Date, batchSize: number): Promise<number> {
    return guard('retention.cleanup', () => this.deleteStatement(cutoff, batchSize));
  }

  private async deleteStatement(cutoff: Date, batchSize: number): Promise<number> {
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

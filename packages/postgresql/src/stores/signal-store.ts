import { normalizeSignalName, type SignalDeliveryResult } from '@floworch/core/backend';
import { SqlSignalStore } from '@floworch/sql';
import { sql } from 'kysely';
import { type PgContext, pgLayer, table, toDate, toDateOrNull } from '../sql/context.js';
import { guard } from '../sql/errors.js';

/**
 * PostgreSQL `FlowSignalStore`: the shared SQL implementation, plus delivery, which targets the
 * oldest undelivered waiter with the name under `for update`.
 */
export class PgSignalStore extends SqlSignalStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {
    super(pgLayer(ctx));
  }

  override async deliverSignal(
    runId: string,
    signalName: string,
    payloadJson: string,
  ): Promise<SignalDeliveryResult> {
    const name = normalizeSignalName(signalName);
    return guard('signals.deliverSignal', async () => {
      // A concurrent deliverer that loses the row lock sees zero rows; it then re-reads, and only
      // if an undelivered waiter is still left does it try again.
      for (;;) {
        const now = this.ctx.clock.now();
        const delivered = await sql<{ step_key: string; delivered_at: Date }>`
          UPDATE ${table(this.ctx, 'flow_signal_waiters')} w SET delivered_at = ${now}, payload_json = ${payloadJson}
          WHERE (w.run_id, w.step_key) = (
            SELECT run_id, step_key FROM ${table(this.ctx, 'flow_signal_waiters')}
            WHERE run_id = ${runId} AND signal_name = ${name} AND delivered_at IS NULL
            ORDER BY created_at, registration_seq
            LIMIT 1
            FOR UPDATE
          ) AND w.delivered_at IS NULL
          RETURNING w.step_key, w.delivered_at`.execute(this.ctx.db);
        const hit = delivered.rows[0];
        if (hit) return { status: 'Delivered', stepKey: hit.step_key, deliveredAt: toDate(hit.delivered_at) };
        const waiters = await this.ctx.db
          .selectFrom('flow_signal_waiters')
          .select(['step_key', 'delivered_at'])
          .where('run_id', '=', runId)
          .where('signal_name', '=', name)
          .orderBy('created_at')
          .orderBy('registration_seq')
          .execute();
        const first = waiters[0];
        if (!first) return { status: 'NotFound', stepKey: null, deliveredAt: null };
        if (waiters.every((w) => w.delivered_at !== null)) {
          return {
            status: 'AlreadyDelivered',
            stepKey: first.step_key,
            deliveredAt: toDateOrNull(first.delivered_at),
          };
        }
      }
    });
  }
}

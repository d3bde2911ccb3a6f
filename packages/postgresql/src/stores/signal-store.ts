import type { FlowSignalStore, FlowSignalWaiter, SignalDeliveryResult } from '@floworch/core';
import { normalizeSignalName } from '@floworch/core/backend';
import { sql } from 'kysely';
import { type PgContext, table, toDate, toDateOrNull } from '../sql/context.js';
import { guard } from '../sql/errors.js';

/** PostgreSQL {@link FlowSignalStore}. Delivery targets the oldest undelivered waiter with the name. */
export class PgSignalStore implements FlowSignalStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async registerWaiter(
    runId: string,
    stepKey: string,
    signalName: string,
    expiresAt: Date | null,
  ): Promise<void> {
    // Re-registering keeps createdAt and any delivery; only the name and expiry change.
    await guard('signals.registerWaiter', () =>
      this.ctx.db
        .insertInto('flow_signal_waiters')
        .values({
          run_id: runId,
          step_key: stepKey,
          signal_name: normalizeSignalName(signalName),
          created_at: this.ctx.clock.now(),
          expires_at: expiresAt,
          delivered_at: null,
          payload_json: null,
        })
        .onConflict((oc) =>
          oc.columns(['run_id', 'step_key']).doUpdateSet((eb) => ({
            signal_name: eb.ref('excluded.signal_name'),
            expires_at: eb.ref('excluded.expires_at'),
          })),
        )
        .execute(),
    );
  }

  async deliverSignal(runId: string, signalName: string, payloadJson: string): Promise<SignalDeliveryResult> {
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

  async getWaiter(runId: string, stepKey: string): Promise<FlowSignalWaiter | null> {
    return guard('signals.getWaiter', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_signal_waiters')
        .selectAll()
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .executeTakeFirst();
      if (!row) return null;
      return {
        runId: row.run_id,
        stepKey: row.step_key,
        signalName: row.signal_name,
        createdAt: toDate(row.created_at),
        expiresAt: toDateOrNull(row.expires_at),
        deliveredAt: toDateOrNull(row.delivered_at),
        payloadJson: row.payload_json,
      };
    });
  }

  async removeWaiter(runId: string, stepKey: string): Promise<void> {
    await guard('signals.removeWaiter', () =>
      this.ctx.db
        .deleteFrom('flow_signal_waiters')
        .where('run_id', '=', runId)
        .where('step_key', '=', stepKey)
        .execute(),
    );
  }
}

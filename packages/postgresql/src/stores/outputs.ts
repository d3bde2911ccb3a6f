import type { EventLogQuery, FlowEventInput, FlowEventReader, FlowEventRecord } from '@floworch/core/backend';
import { eventRecord, SqlOutputs } from '@floworch/sql';
import { type PgContext, pgLayer, toNumber } from '../sql/context.js';
import { guard } from '../sql/errors.js';
import { EVENTS_CHANNEL, type NotificationSource, QUEUE_CHANNEL } from './queue-store.js';

/**
 * PostgreSQL `OutputsRepository` and `FlowEventReader`: the shared SQL implementation, plus the
 * batched event insert, the global event log and LISTEN-based wake-ups.
 */
export class PgOutputs extends SqlOutputs {
  /**
   * @param ctx shared connection, schema and clock
   * @param notifications how to LISTEN (a dedicated connection), when the driver allows it
   */
  constructor(
    private readonly ctx: PgContext,
    private readonly notifications?: NotificationSource,
  ) {
    super(pgLayer(ctx));
  }

  async recordEvents(
    events: ReadonlyArray<{ readonly runId: string; readonly event: FlowEventInput }>,
  ): Promise<void> {
    if (events.length === 0) return;
    const now = this.ctx.clock.now();
    // One multi-row insert: sequences are drawn in VALUES order, so per-run order is kept.
    await guard('outputs.recordEvents', () =>
      this.ctx.db
        .insertInto('flow_events')
        .values(
          events.map(({ runId, event }) => ({
            run_id: runId,
            timestamp_utc: event.timestamp ?? now,
            type: event.type,
            step_key: event.stepKey ?? null,
            message: event.message ?? null,
          })),
        )
        .execute(),
    );
  }

  async readEventLog(query?: EventLogQuery): Promise<FlowEventRecord[]> {
    // The storage guard fills in and clamps the cursor and page size.
    const { after = 0, take = 1 } = query ?? {};
    return guard('events.readEventLog', async () => {
      const rows = await this.layer.db
        .selectFrom('flowEvents')
        .selectAll()
        .where('sequence', '>', String(after) as never)
        .orderBy('sequence')
        .limit(take)
        .execute();
      return rows.map(eventRecord);
    });
  }

  async lastEventSequence(): Promise<number> {
    return guard('events.lastEventSequence', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_events')
        .select((eb) => eb.fn.max('sequence').as('last'))
        .executeTakeFirst();
      return row?.last === null || row?.last === undefined ? 0 : toNumber(row.last);
    });
  }

  /**
   * Wakes on the queue channel (a transition queued work: its events are committed) and on the
   * events channel (a transition closed a run). Both LISTEN on dedicated connections.
   */
  get listen(): FlowEventReader['listen'] {
    const source = this.notifications;
    if (!source) return undefined;
    return async (onAppended) => {
      const mine = (payload: string) => {
        // An empty payload comes after a reconnect: notifications may have been missed.
        if (payload === this.ctx.schema || payload === '') onAppended();
      };
      const closers = await Promise.all([source(QUEUE_CHANNEL, mine), source(EVENTS_CHANNEL, mine)]);
      return async () => {
        await Promise.all(closers.map((close) => close()));
      };
    };
  }
}

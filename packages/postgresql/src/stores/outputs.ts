import type {
  EventLogQuery,
  EventPage,
  FlowEventInput,
  FlowEventReader,
  FlowEventRecord,
  OutputsRepository,
} from '@floworch/core';
import {
  clampEventLogQuery,
  clampEventPage,
  fromJsonText,
  headersFromJsonText,
  lowerCaseHeaders,
  OutputKeys,
  toJsonText,
} from '@floworch/core/backend';
import { type PgContext, toDate, toNumber } from '../sql/context.js';
import { guard } from '../sql/errors.js';
import { EVENTS_CHANNEL, type NotificationSource, QUEUE_CHANNEL } from './queue-store.js';

type EventRow = {
  sequence: unknown;
  run_id: string;
  timestamp_utc: Date | string;
  type: string;
  step_key: string | null;
  message: string | null;
};

function eventRecord(r: EventRow): FlowEventRecord {
  return {
    sequence: toNumber(r.sequence),
    runId: r.run_id,
    timestamp: toDate(r.timestamp_utc),
    type: r.type,
    stepKey: r.step_key,
    message: r.message,
  };
}

/**
 * PostgreSQL {@link OutputsRepository} and {@link FlowEventReader}. Values are stored as JSON
 * text (not `jsonb`), so what was written is what is read, key order and all.
 */
export class PgOutputs implements OutputsRepository, FlowEventReader {
  /**
   * @param ctx shared connection, schema and clock
   * @param notifications how to LISTEN (a dedicated connection), when the driver allows it
   */
  constructor(
    private readonly ctx: PgContext,
    private readonly notifications?: NotificationSource,
  ) {}

  private async put(runId: string, key: string, value: unknown, what: string): Promise<void> {
    const text = toJsonText(value, what);
    await guard(`outputs.save ${what}`, () =>
      this.ctx.db
        .insertInto('flow_outputs')
        .values({ run_id: runId, key, value_json: text, created_at: this.ctx.clock.now() })
        .onConflict((oc) =>
          oc.columns(['run_id', 'key']).doUpdateSet((eb) => ({ value_json: eb.ref('excluded.value_json') })),
        )
        .execute(),
    );
  }

  private async read(runId: string, key: string): Promise<string | null> {
    return guard('outputs.read', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_outputs')
        .select('value_json')
        .where('run_id', '=', runId)
        .where('key', '=', key)
        .executeTakeFirst();
      return row?.value_json ?? null;
    });
  }

  async saveStepOutput(runId: string, stepKey: string, value: unknown): Promise<void> {
    await this.put(runId, stepKey, value, `output of step '${stepKey}'`);
  }

  async saveStepInput(runId: string, stepKey: string, inputs: unknown): Promise<void> {
    await this.put(runId, OutputKeys.stepInput(stepKey), inputs, `inputs of step '${stepKey}'`);
  }

  async saveTriggerData(runId: string, data: unknown): Promise<void> {
    await this.put(runId, OutputKeys.triggerData, data, 'trigger data');
  }

  async saveTriggerHeaders(runId: string, headers: Readonly<Record<string, string>> | null): Promise<void> {
    if (headers === null || headers === undefined) return;
    await this.put(runId, OutputKeys.triggerHeaders, lowerCaseHeaders(headers), 'trigger headers');
  }

  async getTriggerData(runId: string): Promise<unknown> {
    return fromJsonText(await this.read(runId, OutputKeys.triggerData));
  }

  async getTriggerHeaders(runId: string): Promise<Record<string, string> | null> {
    return headersFromJsonText(await this.read(runId, OutputKeys.triggerHeaders));
  }

  async getStepOutput(runId: string, stepKey: string): Promise<unknown> {
    return fromJsonText(await this.read(runId, stepKey));
  }

  async getStepInput(runId: string, stepKey: string): Promise<unknown> {
    return fromJsonText(await this.read(runId, OutputKeys.stepInput(stepKey)));
  }

  async recordEvent(runId: string, event: FlowEventInput, defaultStepKey?: string | null): Promise<void> {
    await guard('outputs.recordEvent', () =>
      this.ctx.db
        .insertInto('flow_events')
        .values({
          run_id: runId,
          timestamp_utc: event.timestamp ?? this.ctx.clock.now(),
          type: event.type,
          step_key: event.stepKey ?? defaultStepKey ?? null,
          message: event.message ?? null,
        })
        .execute(),
    );
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

  async getRunEvents(runId: string, page?: EventPage): Promise<FlowEventRecord[]> {
    const { skip, take } = clampEventPage(page?.skip, page?.take);
    return guard('events.getRunEvents', async () => {
      const rows = await this.ctx.db
        .selectFrom('flow_events')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('sequence')
        .offset(skip)
        .limit(take)
        .execute();
      return rows.map(eventRecord);
    });
  }

  async readEventLog(query?: EventLogQuery): Promise<FlowEventRecord[]> {
    const { after, take } = clampEventLogQuery(query);
    return guard('events.readEventLog', async () => {
      const rows = await this.ctx.db
        .selectFrom('flow_events')
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

import {
  clampEventPage,
  type EventPage,
  type FlowEventInput,
  type FlowEventReader,
  type FlowEventRecord,
  fromJsonText,
  headersFromJsonText,
  lowerCaseHeaders,
  OutputKeys,
  type OutputsRepository,
  toJsonText,
} from '@floworch/core';
import { type PgContext, toDate, toNumber } from '../sql/context.js';
import { guard } from '../sql/errors.js';

/**
 * PostgreSQL {@link OutputsRepository} and {@link FlowEventReader}. Values are stored as JSON
 * text (not `jsonb`), so what was written is what is read, key order and all.
 */
export class PgOutputs implements OutputsRepository, FlowEventReader {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

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
      return rows.map((r) => ({
        sequence: toNumber(r.sequence),
        runId: r.run_id,
        timestamp: toDate(r.timestamp_utc),
        type: r.type,
        stepKey: r.step_key,
        message: r.message,
      }));
    });
  }
}

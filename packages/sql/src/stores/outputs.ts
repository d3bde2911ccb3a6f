import {
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
} from '@floworch/core/backend';
import type { Selectable } from 'kysely';
import type { FlowEventsTable } from '../schema.js';
import type { SqlLayer } from '../traits.js';
import { toDate, toNumber, toUuid } from '../values.js';
import { upsertReturning } from '../writes.js';

/** A `flowEvents` row as its public record. */
export function eventRecord(row: Selectable<FlowEventsTable>): FlowEventRecord {
  return {
    sequence: toNumber(row.sequence),
    runId: toUuid(row.runId),
    timestamp: toDate(row.timestampUtc),
    type: row.type,
    stepKey: row.stepKey,
    message: row.message,
  };
}

/**
 * {@link OutputsRepository} and {@link FlowEventReader} over `flowOutputs` (JSON text per key, so
 * what was written is what is read, key order and all) and the `flowEvents` log.
 */
export class SqlOutputs implements OutputsRepository, FlowEventReader {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(protected readonly layer: SqlLayer) {}

  private async put(runId: string, outputKey: string, value: unknown, what: string): Promise<void> {
    const { traits } = this.layer;
    const text = toJsonText(value, what);
    const key = { runId: traits.id(runId, 'runId'), key: traits.key(outputKey, 'output key') };
    await this.layer.run(`outputs.save ${what}`, () =>
      upsertReturning(
        this.layer,
        'flowOutputs',
        key,
        { valueJson: text, createdAt: traits.instant(this.layer.now()) },
        ['valueJson'],
      ),
    );
  }

  private async read(runId: string, outputKey: string): Promise<string | null> {
    const { traits } = this.layer;
    const run = traits.id(runId, 'runId');
    const key = traits.key(outputKey, 'output key');
    return this.layer.run('outputs.read', async () => {
      const row = await this.layer.db
        .selectFrom('flowOutputs')
        .select('valueJson')
        .where('runId', '=', run)
        .where('key', '=', key)
        .executeTakeFirst();
      return row?.valueJson ?? null;
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
    const { traits } = this.layer;
    const stepKey = event.stepKey ?? defaultStepKey ?? null;
    const row = {
      runId: traits.id(runId, 'runId'),
      timestampUtc: traits.instant(event.timestamp ?? this.layer.now()),
      type: event.type,
      stepKey: stepKey === null ? null : traits.key(stepKey, 'event.stepKey'),
      message: event.message ?? null,
    };
    await this.layer.run('outputs.recordEvent', () =>
      this.layer.db.insertInto('flowEvents').values(row).execute(),
    );
  }

  async getRunEvents(runId: string, page?: EventPage): Promise<FlowEventRecord[]> {
    // The storage guard fills in and clamps the page (take >= 1, so the fetch is positive).
    const { skip = 0, take = 1 } = page ?? {};
    const run = this.layer.traits.id(runId, 'runId');
    return this.layer.run('events.getRunEvents', async () => {
      const rows = await this.layer.db
        .selectFrom('flowEvents')
        .select(['sequence', 'runId', 'timestampUtc', 'type', 'stepKey', 'message'])
        .where('runId', '=', run)
        .orderBy('sequence')
        .offset(skip)
        .fetch(take)
        .execute();
      return rows.map(eventRecord);
    });
  }
}

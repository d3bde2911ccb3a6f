import type {
  EventPage,
  FlowEventInput,
  FlowEventReader,
  FlowEventRecord,
  OutputsRepository,
} from '@floworch/core';
import {
  clampEventPage,
  fromJsonText,
  headersFromJsonText,
  lowerCaseHeaders,
  OutputKeys,
  toJsonText,
} from '@floworch/core/backend';
import { sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import { key, toDate, toNumber, toUuid, ts, uuid } from '../sql/values.js';

interface EventRow {
  Sequence: string | number;
  RunId: string;
  Timestamp: Date;
  Type: string;
  StepKey: string | null;
  Message: string | null;
}

/**
 * SQL Server {@link OutputsRepository} and {@link FlowEventReader}: one `FlowOutputs` key/value
 * table (JSON text) and the `FlowEvents` log with a global identity sequence.
 */
export class SqlServerOutputs implements OutputsRepository, FlowEventReader {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  private async put(runId: string, outputKey: string, value: unknown, what: string): Promise<void> {
    const text = toJsonText(value, what);
    const run = uuid(runId, 'runId');
    const k = key(outputKey, 'output key');
    // Upsert under a key-range lock so two concurrent first writes cannot collide on the key.
    await retryOnDeadlock(() =>
      query(
        this.ctx,
        sql`MERGE ${this.ctx.n.table('FlowOutputs')} WITH (HOLDLOCK) AS t
USING (SELECT CONVERT(UNIQUEIDENTIFIER, ${run}) AS [RunId], ${k} AS [Key]) AS s ON t.[RunId] = s.[RunId] AND t.[Key] = s.[Key]
WHEN MATCHED THEN UPDATE SET [ValueJson] = ${text}
WHEN NOT MATCHED THEN INSERT ([RunId], [Key], [ValueJson], [CreatedAt]) VALUES (s.[RunId], s.[Key], ${text}, ${ts(this.ctx.clock.now())});`,
      ),
    );
  }

  private async read(runId: string, outputKey: string): Promise<string | null> {
    const row = await queryFirst(
      this.ctx,
      sql<{ ValueJson: string | null }>`SELECT [ValueJson] FROM ${this.ctx.n.table('FlowOutputs')}
WHERE [RunId] = ${uuid(runId, 'runId')} AND [Key] = ${key(outputKey, 'output key')};`,
    );
    return row?.ValueJson ?? null;
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
    const stepKey = event.stepKey ?? defaultStepKey ?? null;
    await query(
      this.ctx,
      sql`INSERT INTO ${this.ctx.n.table('FlowEvents')} ([RunId], [Timestamp], [Type], [StepKey], [Message])
VALUES (${uuid(runId, 'runId')}, ${ts(event.timestamp ?? this.ctx.clock.now())}, ${event.type},
  ${stepKey === null ? null : key(stepKey, 'event.stepKey')}, ${event.message ?? null});`,
    );
  }

  async getRunEvents(runId: string, page?: EventPage): Promise<FlowEventRecord[]> {
    // clampEventPage keeps take >= 1, so FETCH is always positive.
    const { skip, take } = clampEventPage(page?.skip, page?.take);
    const rows = await query(
      this.ctx,
      sql<EventRow>`SELECT [Sequence], [RunId], [Timestamp], [Type], [StepKey], [Message] FROM ${this.ctx.n.table('FlowEvents')}
WHERE [RunId] = ${uuid(runId, 'runId')}
ORDER BY [Sequence] OFFSET ${skip} ROWS FETCH NEXT ${take} ROWS ONLY;`,
    );
    return rows.map((r) => ({
      sequence: toNumber(r.Sequence),
      runId: toUuid(r.RunId),
      timestamp: toDate(r.Timestamp),
      type: r.Type,
      stepKey: r.StepKey,
      message: r.Message,
    }));
  }
}

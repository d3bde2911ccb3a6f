import type { FlowScheduleState, FlowScheduleStateInput, FlowScheduleStateStore } from '@floworch/core';
import { sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import { key, toBool, toDate, toUuid, ts, uuid } from '../sql/values.js';

interface ScheduleRow {
  JobId: string;
  FlowId: string;
  FlowName: string;
  TriggerKey: string;
  IsPaused: boolean;
  CronOverride: string | null;
  UpdatedAtUtc: Date;
}

const COLUMNS = sql.raw(
  '[JobId], [FlowId], [FlowName], [TriggerKey], [IsPaused], [CronOverride], [UpdatedAtUtc]',
);

function record(row: ScheduleRow): FlowScheduleState {
  return {
    jobId: row.JobId,
    flowId: toUuid(row.FlowId),
    flowName: row.FlowName,
    triggerKey: row.TriggerKey,
    isPaused: toBool(row.IsPaused),
    cronOverride: row.CronOverride,
    updatedAt: toDate(row.UpdatedAtUtc),
  };
}

/** SQL Server {@link FlowScheduleStateStore} over `FlowScheduleStates` (job ids in binary collation). */
export class SqlServerScheduleStore implements FlowScheduleStateStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async get(jobId: string): Promise<FlowScheduleState | null> {
    const row = await queryFirst(
      this.ctx,
      sql<ScheduleRow>`SELECT ${COLUMNS} FROM ${this.ctx.n.table('FlowScheduleStates')} WHERE [JobId] = ${key(jobId, 'jobId')};`,
    );
    return row ? record(row) : null;
  }

  async getAll(): Promise<FlowScheduleState[]> {
    // JobId carries the binary collation, so this is the contract's ordinal order.
    const rows = await query(
      this.ctx,
      sql<ScheduleRow>`SELECT ${COLUMNS} FROM ${this.ctx.n.table('FlowScheduleStates')} ORDER BY [JobId];`,
    );
    return rows.map(record);
  }

  async save(state: FlowScheduleStateInput): Promise<FlowScheduleState> {
    const jobId = key(state.jobId, 'jobId');
    const flowId = uuid(state.flowId, 'flowId');
    const flowName = state.flowName ?? '';
    const paused = state.isPaused ?? false;
    const cron = state.cronOverride ?? null;
    const now = ts(this.ctx.clock.now());
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<ScheduleRow>`MERGE ${this.ctx.n.table('FlowScheduleStates')} WITH (HOLDLOCK) AS t
USING (SELECT ${jobId} AS [JobId]) AS s ON t.[JobId] = s.[JobId]
WHEN MATCHED THEN UPDATE SET [FlowId] = ${flowId}, [FlowName] = ${flowName}, [TriggerKey] = ${state.triggerKey},
  [IsPaused] = ${paused}, [CronOverride] = ${cron}, [UpdatedAtUtc] = ${now}
WHEN NOT MATCHED THEN INSERT ([JobId], [FlowId], [FlowName], [TriggerKey], [IsPaused], [CronOverride], [UpdatedAtUtc])
  VALUES (s.[JobId], ${flowId}, ${flowName}, ${state.triggerKey}, ${paused}, ${cron}, ${now})
OUTPUT inserted.[JobId], inserted.[FlowId], inserted.[FlowName], inserted.[TriggerKey], inserted.[IsPaused],
  inserted.[CronOverride], inserted.[UpdatedAtUtc];`,
      ),
    );
    if (!row) throw new Error(`MERGE into FlowScheduleStates returned no row for '${jobId}'`);
    return record(row);
  }

  async delete(jobId: string): Promise<void> {
    await query(
      this.ctx,
      sql`DELETE FROM ${this.ctx.n.table('FlowScheduleStates')} WHERE [JobId] = ${key(jobId, 'jobId')};`,
    );
  }
}

import type { FlowScheduleState, FlowScheduleStateInput, FlowScheduleStateStore } from '@floworch/core';
import { type Selectable, sql } from 'kysely';
import type { FlowScheduleStatesTable } from '../schema/database.js';
import { type PgContext, table, toDate } from '../sql/context.js';
import { guard } from '../sql/errors.js';

function record(row: Selectable<FlowScheduleStatesTable>): FlowScheduleState {
  return {
    jobId: row.job_id,
    flowId: row.flow_id,
    flowName: row.flow_name,
    triggerKey: row.trigger_key,
    isPaused: row.is_paused,
    cronOverride: row.cron_override,
    updatedAt: toDate(row.updated_at_utc),
  };
}

/** PostgreSQL {@link FlowScheduleStateStore}: a plain upsert per recurring job. */
export class PgScheduleStore implements FlowScheduleStateStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async get(jobId: string): Promise<FlowScheduleState | null> {
    return guard('schedules.get', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_schedule_states')
        .selectAll()
        .where('job_id', '=', jobId)
        .executeTakeFirst();
      return row ? record(row) : null;
    });
  }

  async getAll(): Promise<FlowScheduleState[]> {
    return guard('schedules.getAll', async () => {
      const rows = await sql<Selectable<FlowScheduleStatesTable>>`
        SELECT * FROM ${table(this.ctx, 'flow_schedule_states')} ORDER BY job_id COLLATE "C"`.execute(
        this.ctx.db,
      );
      return rows.rows.map(record);
    });
  }

  async save(state: FlowScheduleStateInput): Promise<FlowScheduleState> {
    return guard('schedules.save', async () => {
      const row = await this.ctx.db
        .insertInto('flow_schedule_states')
        .values({
          job_id: state.jobId,
          flow_id: state.flowId,
          flow_name: state.flowName ?? '',
          trigger_key: state.triggerKey,
          is_paused: state.isPaused ?? false,
          cron_override: state.cronOverride ?? null,
          updated_at_utc: this.ctx.clock.now(),
        })
        .onConflict((oc) =>
          oc.column('job_id').doUpdateSet((eb) => ({
            flow_id: eb.ref('excluded.flow_id'),
            flow_name: eb.ref('excluded.flow_name'),
            trigger_key: eb.ref('excluded.trigger_key'),
            is_paused: eb.ref('excluded.is_paused'),
            cron_override: eb.ref('excluded.cron_override'),
            updated_at_utc: eb.ref('excluded.updated_at_utc'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return record(row);
    });
  }

  async delete(jobId: string): Promise<void> {
    await guard('schedules.delete', () =>
      this.ctx.db.deleteFrom('flow_schedule_states').where('job_id', '=', jobId).execute(),
    );
  }
}

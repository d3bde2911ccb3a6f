import type {
  FlowScheduleState,
  FlowScheduleStateInput,
  FlowScheduleStateStore,
} from '@floworch/core/backend';
import type { Selectable } from 'kysely';
import type { FlowScheduleStatesTable } from '../schema.js';
import type { SqlLayer } from '../traits.js';
import { toBool, toDate, toUuid } from '../values.js';
import { upsertReturning } from '../writes.js';

function record(row: Selectable<FlowScheduleStatesTable>): FlowScheduleState {
  return {
    jobId: row.jobId,
    flowId: toUuid(row.flowId),
    flowName: row.flowName,
    triggerKey: row.triggerKey,
    isPaused: toBool(row.isPaused),
    cronOverride: row.cronOverride,
    updatedAt: toDate(row.updatedAtUtc),
  };
}

/** {@link FlowScheduleStateStore} over `flowScheduleStates`: one upsert per recurring job. */
export class SqlScheduleStore implements FlowScheduleStateStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(private readonly layer: SqlLayer) {}

  async get(jobId: string): Promise<FlowScheduleState | null> {
    const id = this.layer.traits.key(jobId, 'jobId');
    return this.layer.run('schedules.get', async () => {
      const row = await this.layer.db
        .selectFrom('flowScheduleStates')
        .selectAll()
        .where('jobId', '=', id)
        .executeTakeFirst();
      return row ? record(row) : null;
    });
  }

  async getAll(): Promise<FlowScheduleState[]> {
    return this.layer.run('schedules.getAll', async () => {
      const rows = await this.layer.db
        .selectFrom('flowScheduleStates')
        .selectAll()
        .orderBy(this.layer.traits.ordinal('jobId'))
        .execute();
      return rows.map(record);
    });
  }

  async save(state: FlowScheduleStateInput): Promise<FlowScheduleState> {
    const { traits } = this.layer;
    const jobId = traits.key(state.jobId, 'jobId');
    const flowId = traits.id(state.flowId, 'flowId');
    return this.layer.run('schedules.save', async () => {
      const row = await upsertReturning(
        this.layer,
        'flowScheduleStates',
        { jobId },
        {
          flowId,
          flowName: state.flowName ?? '',
          triggerKey: state.triggerKey,
          isPaused: state.isPaused ?? false,
          cronOverride: state.cronOverride ?? null,
          updatedAtUtc: traits.instant(this.layer.now()),
        },
        ['flowId', 'flowName', 'triggerKey', 'isPaused', 'cronOverride', 'updatedAtUtc'],
      );
      return record(row);
    });
  }

  async delete(jobId: string): Promise<void> {
    const id = this.layer.traits.key(jobId, 'jobId');
    await this.layer.run('schedules.delete', () =>
      this.layer.db.deleteFrom('flowScheduleStates').where('jobId', '=', id).execute(),
    );
  }
}

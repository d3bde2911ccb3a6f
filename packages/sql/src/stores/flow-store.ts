import {
  type FlowDefinitionInput,
  type FlowDefinitionRecord,
  FlowNotFoundError,
  type FlowStore,
} from '@floworch/core/backend';
import type { Selectable } from 'kysely';
import type { FlowDefinitionsTable } from '../schema.js';
import type { SqlLayer } from '../traits.js';
import { toBool, toDate, toUuid } from '../values.js';
import { upsertReturning } from '../writes.js';

function record(row: Selectable<FlowDefinitionsTable>): FlowDefinitionRecord {
  return {
    id: toUuid(row.id),
    name: row.name,
    version: row.version,
    manifestJson: row.manifestJson,
    isEnabled: toBool(row.isEnabled),
    createdAt: toDate(row.createdAt),
    updatedAt: toDate(row.updatedAt),
  };
}

/** {@link FlowStore} over `flowDefinitions`, written once for every SQL dialect. */
export class SqlFlowStore implements FlowStore {
  /** @param layer the dialect's query builder, traits and clock */
  constructor(private readonly layer: SqlLayer) {}

  async getAll(): Promise<FlowDefinitionRecord[]> {
    const { db, traits } = this.layer;
    return this.layer.run('flows.getAll', async () => {
      const rows = await db
        .selectFrom('flowDefinitions')
        .selectAll()
        .orderBy(traits.ordinal('name'))
        .orderBy(traits.ordinalId('id'))
        .execute();
      return rows.map(record);
    });
  }

  async getById(id: string): Promise<FlowDefinitionRecord | null> {
    const { db, traits } = this.layer;
    const flowId = traits.id(id, 'id');
    return this.layer.run('flows.getById', async () => {
      const row = await db
        .selectFrom('flowDefinitions')
        .selectAll()
        .where('id', '=', flowId)
        .executeTakeFirst();
      return row ? record(row) : null;
    });
  }

  async save(definition: FlowDefinitionInput): Promise<FlowDefinitionRecord> {
    const { traits } = this.layer;
    const id = traits.id(definition.id, 'definition.id');
    return this.layer.run('flows.save', async () => {
      const now = traits.instant(this.layer.now());
      // createdAt survives an update; everything else is replaced.
      const row = await upsertReturning(
        this.layer,
        'flowDefinitions',
        { id },
        {
          name: definition.name,
          version: definition.version ?? '1.0',
          manifestJson: definition.manifestJson ?? null,
          isEnabled: definition.isEnabled ?? true,
          createdAt: now,
          updatedAt: now,
        },
        ['name', 'version', 'manifestJson', 'isEnabled', 'updatedAt'],
      );
      return record(row);
    });
  }

  async delete(id: string): Promise<void> {
    const flowId = this.layer.traits.id(id, 'id');
    await this.layer.run('flows.delete', () =>
      this.layer.db.deleteFrom('flowDefinitions').where('id', '=', flowId).execute(),
    );
  }

  async setEnabled(id: string, enabled: boolean): Promise<FlowDefinitionRecord> {
    const { db, traits } = this.layer;
    const flowId = traits.id(id, 'id');
    const row = await this.layer.run('flows.setEnabled', async () => {
      const update = db
        .updateTable('flowDefinitions')
        .set({ isEnabled: enabled, updatedAt: traits.instant(this.layer.now()) })
        .where('id', '=', flowId);
      return traits.dialect === 'mssql'
        ? update.outputAll('inserted').executeTakeFirst()
        : update.returningAll().executeTakeFirst();
    });
    if (!row) throw new FlowNotFoundError(id);
    return record(row);
  }
}

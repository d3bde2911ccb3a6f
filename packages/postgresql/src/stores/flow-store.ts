import {
  type FlowDefinitionInput,
  type FlowDefinitionRecord,
  FlowNotFoundError,
  type FlowStore,
  InvalidArgumentError,
} from '@floworch/core';
import { type Selectable, sql } from 'kysely';
import type { FlowDefinitionsTable } from '../schema/database.js';
import { type PgContext, table, toDate } from '../sql/context.js';
import { guard } from '../sql/errors.js';

type Row = Selectable<FlowDefinitionsTable>;

function record(row: Row): FlowDefinitionRecord {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    manifestJson: row.manifest_json,
    isEnabled: row.is_enabled,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}

/** PostgreSQL {@link FlowStore} over `flow_definitions`. */
export class PgFlowStore implements FlowStore {
  /** @param ctx shared connection, schema and clock */
  constructor(private readonly ctx: PgContext) {}

  async getAll(): Promise<FlowDefinitionRecord[]> {
    return guard('flows.getAll', async () => {
      const rows = await sql<Row>`SELECT * FROM ${table(this.ctx, 'flow_definitions')}
        ORDER BY name COLLATE "C", id`.execute(this.ctx.db);
      return rows.rows.map(record);
    });
  }

  async getById(id: string): Promise<FlowDefinitionRecord | null> {
    return guard('flows.getById', async () => {
      const row = await this.ctx.db
        .selectFrom('flow_definitions')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? record(row) : null;
    });
  }

  async save(definition: FlowDefinitionInput): Promise<FlowDefinitionRecord> {
    if (!definition.id) throw new InvalidArgumentError('definition.id', 'is required');
    return guard('flows.save', async () => {
      const now = this.ctx.clock.now();
      // created_at survives an update; everything else is replaced.
      const row = await this.ctx.db
        .insertInto('flow_definitions')
        .values({
          id: definition.id,
          name: definition.name,
          version: definition.version ?? '1.0',
          manifest_json: definition.manifestJson ?? null,
          is_enabled: definition.isEnabled ?? true,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('id').doUpdateSet((eb) => ({
            name: eb.ref('excluded.name'),
            version: eb.ref('excluded.version'),
            manifest_json: eb.ref('excluded.manifest_json'),
            is_enabled: eb.ref('excluded.is_enabled'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return record(row);
    });
  }

  async delete(id: string): Promise<void> {
    await guard('flows.delete', () =>
      this.ctx.db.deleteFrom('flow_definitions').where('id', '=', id).execute(),
    );
  }

  async setEnabled(id: string, enabled: boolean): Promise<FlowDefinitionRecord> {
    const row = await guard('flows.setEnabled', () =>
      this.ctx.db
        .updateTable('flow_definitions')
        .set({ is_enabled: enabled, updated_at: this.ctx.clock.now() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    );
    if (!row) throw new FlowNotFoundError(id);
    return record(row);
  }
}

import {
  type FlowDefinitionInput,
  type FlowDefinitionRecord,
  FlowNotFoundError,
  type FlowStore,
  InvalidArgumentError,
} from '@floworch/core';
import { sql } from 'kysely';
import { query, queryFirst, retryOnDeadlock, type SqlContext } from '../sql/context.js';
import { KEY_COLLATION } from '../sql/names.js';
import { toBool, toDate, toUuid, ts, uuid } from '../sql/values.js';

interface FlowRow {
  Id: string;
  Name: string;
  Version: string;
  ManifestJson: string | null;
  IsEnabled: boolean;
  CreatedAt: Date;
  UpdatedAt: Date;
}

const COLUMNS = sql.raw('[Id], [Name], [Version], [ManifestJson], [IsEnabled], [CreatedAt], [UpdatedAt]');
const INSERTED = sql.raw(
  'inserted.[Id], inserted.[Name], inserted.[Version], inserted.[ManifestJson], inserted.[IsEnabled], inserted.[CreatedAt], inserted.[UpdatedAt]',
);

function record(row: FlowRow): FlowDefinitionRecord {
  return {
    id: toUuid(row.Id),
    name: row.Name,
    version: row.Version,
    manifestJson: row.ManifestJson,
    isEnabled: toBool(row.IsEnabled),
    createdAt: toDate(row.CreatedAt),
    updatedAt: toDate(row.UpdatedAt),
  };
}

/** SQL Server {@link FlowStore} over `FlowDefinitions`. */
export class SqlServerFlowStore implements FlowStore {
  /** @param ctx connection, names and clock */
  constructor(private readonly ctx: SqlContext) {}

  async getAll(): Promise<FlowDefinitionRecord[]> {
    const { n } = this.ctx;
    // Ordinal order (the contract's), whatever the database's default collation.
    const rows = await query(
      this.ctx,
      sql<FlowRow>`SELECT ${COLUMNS} FROM ${n.table('FlowDefinitions')}
ORDER BY [Name] COLLATE ${sql.raw(KEY_COLLATION)}, CONVERT(NCHAR(36), [Id]) COLLATE ${sql.raw(KEY_COLLATION)};`,
    );
    return rows.map(record);
  }

  async getById(id: string): Promise<FlowDefinitionRecord | null> {
    const row = await queryFirst(
      this.ctx,
      sql<FlowRow>`SELECT ${COLUMNS} FROM ${this.ctx.n.table('FlowDefinitions')} WHERE [Id] = ${uuid(id, 'id')};`,
    );
    return row ? record(row) : null;
  }

  async save(definition: FlowDefinitionInput): Promise<FlowDefinitionRecord> {
    if (!definition.id) throw new InvalidArgumentError('definition.id', 'is required');
    const id = uuid(definition.id, 'definition.id');
    const now = ts(this.ctx.clock.now());
    const name = definition.name;
    const version = definition.version ?? '1.0';
    const manifest = definition.manifestJson ?? null;
    const enabled = definition.isEnabled ?? true;
    // MERGE … WITH (HOLDLOCK) holds a key-range lock from the match to the write, so concurrent
    // first saves of one id serialise instead of one of them failing with a duplicate key.
    const row = await retryOnDeadlock(() =>
      queryFirst(
        this.ctx,
        sql<FlowRow>`MERGE ${this.ctx.n.table('FlowDefinitions')} WITH (HOLDLOCK) AS t
USING (SELECT CONVERT(UNIQUEIDENTIFIER, ${id}) AS [Id]) AS s ON t.[Id] = s.[Id]
WHEN MATCHED THEN UPDATE SET [Name] = ${name}, [Version] = ${version}, [ManifestJson] = ${manifest}, [IsEnabled] = ${enabled}, [UpdatedAt] = ${now}
WHEN NOT MATCHED THEN INSERT ([Id], [Name], [Version], [ManifestJson], [IsEnabled], [CreatedAt], [UpdatedAt])
  VALUES (s.[Id], ${name}, ${version}, ${manifest}, ${enabled}, ${now}, ${now})
OUTPUT ${INSERTED};`,
      ),
    );
    if (!row) throw new Error(`MERGE into FlowDefinitions returned no row for '${id}'`);
    return record(row);
  }

  async delete(id: string): Promise<void> {
    await query(
      this.ctx,
      sql`DELETE FROM ${this.ctx.n.table('FlowDefinitions')} WHERE [Id] = ${uuid(id, 'id')};`,
    );
  }

  async setEnabled(id: string, enabled: boolean): Promise<FlowDefinitionRecord> {
    const row = await queryFirst(
      this.ctx,
      sql<FlowRow>`UPDATE ${this.ctx.n.table('FlowDefinitions')}
SET [IsEnabled] = ${enabled}, [UpdatedAt] = ${ts(this.ctx.clock.now())}
OUTPUT ${INSERTED}
WHERE [Id] = ${uuid(id, 'id')};`,
    );
    if (!row) throw new FlowNotFoundError(id);
    return record(row);
  }
}

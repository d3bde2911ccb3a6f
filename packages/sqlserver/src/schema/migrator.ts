import { type Clock, SchemaTooNewError, StorageError, systemClock } from '@floworch/core';
import { type Kysely, sql } from 'kysely';
import { DEFAULT_SCHEMA, KEY_COLLATION, SqlNames } from '../sql/names.js';
import { ADDED_COLUMNS, INDEXES, KEY_COLUMNS, PRIMARY_KEYS, tableDefinitions } from './tables.js';

/** Version written to `FlowSchemaVersion` by this release. */
export const SCHEMA_VERSION = 2;

/** First version whose dispatch ledger is the step queue (`VisibleAt`, `Attempt`). */
export const QUEUE_SCHEMA_VERSION = 2;

const VERSION_DESCRIPTION =
  'floworch 2: baseline (reference 1.26 tables + leases, control CreatedAt, BIN2 keys) + step queue (ledger VisibleAt, Attempt)';

/** How long a migrator waits for another replica's migration before failing (ms). */
export const MIGRATION_LOCK_TIMEOUT_MS = 120_000;

/** One T-SQL batch of the migration, with a label for error messages. */
export interface MigrationBatch {
  /** What the batch does, e.g. `create table FlowRuns`. */
  readonly label: string;
  /** The batch text (no parameters; every name is a validated identifier). */
  readonly sql: string;
}

/** Doubles single quotes for embedding in an `N'…'` literal. */
function literal(text: string): string {
  return `N'${text.replaceAll("'", "''")}'`;
}

/**
 * The applock batch. `@LockOwner = 'Transaction'` ties the lock to the migration transaction, so
 * it is released by the commit or rollback and never leaks on a pooled session.
 */
export function applockBatch(n: SqlNames): MigrationBatch {
  const resource = literal(`floworch:migrate:${n.schema}`);
  return {
    label: 'acquire migration lock',
    sql: `DECLARE @result INT;
EXEC @result = sys.sp_getapplock @Resource = ${resource}, @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = ${MIGRATION_LOCK_TIMEOUT_MS};
IF @result < 0 THROW 51000, N'floworch: could not acquire the migration lock (another replica is migrating, or it timed out).', 1;`,
  };
}

function collationBatch(n: SqlNames, table: string, column: string, type: string): string {
  const qualified = `[${n.schema}].[${table}]`;
  const pkColumns = PRIMARY_KEYS[table as keyof typeof PRIMARY_KEYS]!.map((c) => `[${c}]`).join(', ');
  // Index and PK drops/re-creates run through sp_executesql so that the batch compiles even when
  // the objects do not exist; the secondary indexes are re-created by the index batches later.
  return `DECLARE @obj INT = OBJECT_ID(${literal(qualified)}, N'U');
DECLARE @name SYSNAME, @pk SYSNAME, @sql NVARCHAR(MAX);
IF @obj IS NOT NULL AND EXISTS (SELECT 1 FROM sys.columns WHERE object_id = @obj AND name = ${literal(column)} AND ISNULL(collation_name, N'') <> N'${KEY_COLLATION}')
BEGIN
  WHILE 1 = 1
  BEGIN
    SET @name = NULL;
    SELECT TOP (1) @name = i.name
      FROM sys.indexes AS i
      JOIN sys.index_columns AS ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
      JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
      WHERE i.object_id = @obj AND c.name = ${literal(column)} AND i.is_primary_key = 0
      ORDER BY i.name;
    IF @name IS NULL BREAK;
    SET @sql = N'DROP INDEX ' + QUOTENAME(@name) + N' ON ${qualified}';
    EXEC sys.sp_executesql @sql;
  END;
  SET @pk = NULL;
  SELECT @pk = kc.name
    FROM sys.key_constraints AS kc
    JOIN sys.index_columns AS ic ON ic.object_id = kc.parent_object_id AND ic.index_id = kc.unique_index_id
    JOIN sys.columns AS c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
    WHERE kc.parent_object_id = @obj AND kc.type = 'PK' AND c.name = ${literal(column)};
  IF @pk IS NOT NULL
  BEGIN
    SET @sql = N'ALTER TABLE ${qualified} DROP CONSTRAINT ' + QUOTENAME(@pk);
    EXEC sys.sp_executesql @sql;
  END;
  EXEC sys.sp_executesql N'ALTER TABLE ${qualified} ALTER COLUMN [${column}] ${type.replace(
    /^(\S+)/,
    `$1 COLLATE ${KEY_COLLATION}`,
  )}';
  IF @pk IS NOT NULL
  BEGIN
    SET @sql = N'ALTER TABLE ${qualified} ADD CONSTRAINT ' + QUOTENAME(@pk) + N' PRIMARY KEY (${pkColumns})';
    EXEC sys.sp_executesql @sql;
  END;
END;`;
}

/**
 * Upgrading to the step queue: ledger rows of `Running` runs whose step is not terminal (or has no
 * step row yet) become due at their dispatch time, so work that was in flight before the upgrade
 * is taken by the new engine; every other row is out of the queue (`NULL`). Finished runs have no
 * work in flight (the PostgreSQL backend's backfill draws the same line). Guarded by the version table, so it runs
 * exactly once, in the migration that writes version {@link QUEUE_SCHEMA_VERSION}; on a fresh
 * database the ledger is empty. It runs after the collation batches (the join compares the
 * ledger's and the steps' key columns, which an upgrade may have just re-collated) and through
 * dynamic SQL, because `VisibleAt` may have been added by an earlier batch of the same migration.
 */
export function queueBackfillBatch(n: SqlNames): MigrationBatch {
  const update = `UPDATE d SET [VisibleAt] = CASE WHEN r.[Status] = N'Running' AND NOT EXISTS (SELECT 1 FROM ${n.text('FlowSteps')} AS s
    WHERE s.[RunId] = d.[RunId] AND s.[StepKey] = d.[StepKey] AND s.[Status] IN (N'Succeeded', N'Failed', N'Skipped'))
  THEN d.[DispatchedAt] ELSE NULL END
FROM ${n.text('FlowStepDispatches')} AS d
LEFT JOIN ${n.text('FlowRuns')} AS r ON r.[Id] = d.[RunId];`;
  return {
    label: 'backfill FlowStepDispatches.VisibleAt',
    sql: `IF NOT EXISTS (SELECT 1 FROM ${n.text('FlowSchemaVersion')} WHERE [Version] >= ${QUEUE_SCHEMA_VERSION})
  EXEC sys.sp_executesql ${literal(update)};`,
  };
}

/**
 * Every batch after the lock, in order. Each is idempotent (guarded by catalog checks by schema and
 * name), so running them on an up-to-date database changes nothing. Statements that name a column
 * which an earlier batch may have just added go through dynamic SQL: SQL Server resolves names when
 * it compiles a batch, and the reference's 1.17 upgrade failed exactly there.
 */
export function migrationBatches(n: SqlNames): MigrationBatch[] {
  const batches: MigrationBatch[] = [];
  batches.push({
    label: `create schema ${n.schema}`,
    sql: `IF SCHEMA_ID(${literal(n.schema)}) IS NULL EXEC(N'CREATE SCHEMA [${n.schema}]');`,
  });
  for (const { table, ddl } of tableDefinitions(n)) {
    batches.push({
      label: `create table ${table}`,
      sql: `IF OBJECT_ID(${literal(n.text(table))}, N'U') IS NULL\nBEGIN\n${ddl};\nEND;`,
    });
  }
  for (const { table, column, definition } of ADDED_COLUMNS) {
    batches.push({
      label: `add column ${table}.${column}`,
      sql: `IF COL_LENGTH(${literal(n.text(table))}, ${literal(column)}) IS NULL\n  ALTER TABLE ${n.text(table)} ADD [${column}] ${definition};`,
    });
  }
  for (const { table, column, type } of KEY_COLUMNS) {
    batches.push({
      label: `binary collation on ${table}.${column}`,
      sql: collationBatch(n, table, column, type),
    });
  }
  batches.push(queueBackfillBatch(n));
  for (const index of INDEXES) {
    const create = `CREATE INDEX [${index.name}] ON ${n.text(index.table)} ${index.body}`;
    batches.push({
      label: `create index ${index.name}`,
      sql: `IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE object_id = OBJECT_ID(${literal(
        n.text(index.table),
      )}) AND name = ${literal(index.name)})\n  EXEC sys.sp_executesql ${literal(create)};`,
    });
  }
  return batches;
}

/** Result of {@link migrate}. */
export interface MigrationResult {
  /** Schema version before the run (0 = no version table or no row). */
  readonly fromVersion: number;
  /** Schema version after the run. */
  readonly toVersion: number;
}

/**
 * Creates or upgrades the schema, serialised across replicas by `sp_getapplock` inside one
 * transaction (SQL Server DDL is transactional, so a failure leaves the previous schema intact).
 * @throws StorageError when the database carries a newer schema version than this release knows
 */
export async function migrate(db: Kysely<unknown>, n: SqlNames, now: Date): Promise<MigrationResult> {
  return db.transaction().execute(async (trx) => {
    await sql.raw(applockBatch(n).sql).execute(trx);
    const versionTable = n.text('FlowSchemaVersion');
    const existing = await sql<{
      v: number | null;
    }>`SELECT CASE WHEN OBJECT_ID(${versionTable}, N'U') IS NULL THEN NULL ELSE 1 END AS v;`.execute(trx);
    let fromVersion = 0;
    if (existing.rows[0]?.v === 1) {
      const row = await sql<{
        v: number | null;
      }>`SELECT MAX([Version]) AS v FROM ${n.table('FlowSchemaVersion')};`.execute(trx);
      fromVersion = row.rows[0]?.v ?? 0;
    }
    if (fromVersion > SCHEMA_VERSION) {
      throw new SchemaTooNewError(fromVersion, SCHEMA_VERSION, '@floworch/sqlserver', `Schema [${n.schema}]`);
    }
    for (const batch of migrationBatches(n)) {
      try {
        await sql.raw(batch.sql).execute(trx);
      } catch (error) {
        throw new StorageError(
          'MIGRATION_FAILED',
          `SQL Server migration step '${batch.label}' failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    }
    await sql`IF NOT EXISTS (SELECT 1 FROM ${n.table('FlowSchemaVersion')} WHERE [Version] = ${SCHEMA_VERSION})
  INSERT INTO ${n.table('FlowSchemaVersion')} ([Version], [Description], [AppliedAt]) VALUES (${SCHEMA_VERSION}, ${VERSION_DESCRIPTION}, ${now});`.execute(
      trx,
    );
    return { fromVersion, toVersion: SCHEMA_VERSION };
  });
}

/**
 * Creates or upgrades the floworch tables in `schema` (default `dbo`) over an existing kysely
 * instance on SQL Server. Idempotent; replicas migrating together are serialised by an app lock.
 *
 * @example
 * const result = await migrateSqlServer(db, { schema: 'flows' });
 * @throws SchemaTooNewError when a newer release already migrated the schema
 */
export async function migrateSqlServer(
  // biome-ignore lint/suspicious/noExplicitAny: callers' Kysely instances carry their own table types.
  db: Kysely<any>,
  options: { readonly schema?: string; readonly clock?: Clock } = {},
): Promise<MigrationResult> {
  return migrate(db, new SqlNames(options.schema ?? DEFAULT_SCHEMA), (options.clock ?? systemClock).now());
}

import { InvalidArgumentError, SchemaTooNewError, StorageError } from '@floworch/core';
import { type Kysely, sql } from 'kysely';
import { explainConnectionError } from '../connection/explain.js';
import { DDL_STEPS, SCHEMA_DESCRIPTION, SCHEMA_VERSION } from './ddl.js';

/** Named in errors that ask for an upgrade. */
const PACKAGE_NAME = '@floworch/postgresql';

/** Schema names are spliced into DDL, so only plain identifiers are accepted. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws unless `schema` is a plain, unquoted-safe identifier. */
export function validateSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new InvalidArgumentError(
      'schema',
      `'${schema}' is not a plain identifier (letters, digits, _; at most 63 characters)`,
    );
  }
  return schema;
}

/** Outcome of {@link migratePostgres}. */
export interface MigrationResult {
  /** Version before the run (0 for an empty schema or a reference 1.26 database). */
  readonly from: number;
  /** Version after the run. */
  readonly to: number;
  /** Whether any DDL ran (false when the schema was already current). */
  readonly applied: boolean;
}

/** The schema version recorded in `schema` (0 when the version table is missing). */
export async function readSchemaVersion<DB>(db: Kysely<DB>, schema: string): Promise<number> {
  const exists = await sql<{
    t: string | null;
  }>`SELECT to_regclass(${`${schema}.floworch_schema_version`}) AS t`.execute(db);
  if (!exists.rows[0]?.t) return 0;
  const row = await sql<{
    v: number | null;
  }>`SELECT MAX(version) AS v FROM ${sql.id(schema, 'floworch_schema_version')}`.execute(db);
  return Number(row.rows[0]?.v ?? 0);
}

/**
 * Creates or upgrades the floworch tables in `schema`. Idempotent and safe to run from several
 * replicas at once: the whole migration is one transaction holding a transaction-scoped advisory
 * lock keyed by the schema name (PostgreSQL DDL is transactional, so a failure leaves nothing
 * half-done). Upgrades a database created by the reference 1.26 schema without losing rows.
 *
 * @throws SchemaTooNewError when a newer package already migrated the schema.
 */
export async function migratePostgres<DB>(
  db: Kysely<DB>,
  options: { schema?: string } = {},
): Promise<MigrationResult> {
  const schema = validateSchemaName(options.schema ?? 'public');
  try {
    // Fast path: most starts find the schema current and need no lock at all.
    const current = await readSchemaVersion(db, schema);
    if (current > SCHEMA_VERSION) throw new SchemaTooNewError(current, SCHEMA_VERSION, PACKAGE_NAME);
    if (current === SCHEMA_VERSION) return { from: current, to: current, applied: false };

    return await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`floworch:migrate:${schema}`}, 0))`.execute(
        trx,
      );
      const from = await readSchemaVersion(trx, schema);
      if (from > SCHEMA_VERSION) throw new SchemaTooNewError(from, SCHEMA_VERSION, PACKAGE_NAME);
      if (from === SCHEMA_VERSION) return { from, to: from, applied: false };
      await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(trx);
      const quoted = `"${schema}"`;
      for (const step of DDL_STEPS) {
        try {
          await sql.raw(step.sql.replaceAll('{s}', quoted)).execute(trx);
        } catch (error) {
          throw (
            explainConnectionError(error, `schema ${schema}`) ??
            new StorageError(
              'MIGRATION_FAILED',
              `Migration step '${step.label}' failed: ${(error as Error).message}`,
              {
                cause: error,
              },
            )
          );
        }
      }
      // The version row decides who "applied" it: a replica that waited on the lock may still have
      // seen a stale catalog and re-run the (idempotent) DDL, but only one insert wins.
      const inserted =
        await sql`INSERT INTO ${sql.id(schema, 'floworch_schema_version')} (version, description)
        VALUES (${SCHEMA_VERSION}, ${SCHEMA_DESCRIPTION}) ON CONFLICT (version) DO NOTHING RETURNING version`.execute(
          trx,
        );
      return { from, to: SCHEMA_VERSION, applied: inserted.rows.length > 0 };
    });
  } catch (error) {
    if (error instanceof StorageError || error instanceof InvalidArgumentError) throw error;
    throw (
      explainConnectionError(error, `schema ${schema}`) ??
      new StorageError('MIGRATION_FAILED', `Migrating schema ${schema} failed: ${(error as Error).message}`, {
        cause: error,
      })
    );
  }
}

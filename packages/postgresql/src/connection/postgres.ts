import { type Clock, InvalidArgumentError, systemClock } from '@floworch/core';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema/database.js';
import { migratePostgres, validateSchemaName } from '../schema/migrator.js';
import { assembleStorage, type PostgresStorage } from '../storage.js';
import { explainConnectionError } from './explain.js';
import { pgNotifications } from './notifications.js';

/** Options of {@link createPostgresStorage}. Give exactly one of `connectionString`, `pool`, `kysely`. */
export interface PostgresStorageOptions {
  /** `postgres://user:password@host:port/database`; the backend creates and owns the pool. */
  readonly connectionString?: string;
  /** A `pg.Pool` you own (it is not ended by `close()`). */
  readonly pool?: pg.Pool;
  /** A kysely instance over PostgreSQL you own (it is not destroyed by `close()`). */
  readonly kysely?: Kysely<unknown>;
  /** Schema for the tables (default `public`); created if missing. */
  readonly schema?: string;
  /** Time source for every timestamp the stores write (default: the system clock). */
  readonly clock?: Clock;
  /** Run the migrator on start (default `true`). Set `false` when migrations run separately. */
  readonly migrate?: boolean;
  /** Pool size when the backend creates the pool (default 10). */
  readonly maxConnections?: number;
}

/** `host:port/database` of a connection string, without credentials, for error messages. */
function describeTarget(connectionString: string | undefined): string {
  if (!connectionString) return 'the configured server';
  try {
    const url = new URL(connectionString);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/**
 * Opens the PostgreSQL backend: every storage contract over kysely + pg, migrated on start.
 *
 * @example
 * const storage = await createPostgresStorage({ connectionString: process.env.DATABASE_URL });
 * // … use storage with the engine …
 * await storage.close();
 */
export async function createPostgresStorage(options: PostgresStorageOptions): Promise<PostgresStorage> {
  const given = [options.connectionString, options.pool, options.kysely].filter(
    (v) => v !== undefined,
  ).length;
  if (given !== 1) {
    throw new InvalidArgumentError('options', 'give exactly one of connectionString, pool or kysely');
  }
  const schema = validateSchemaName(options.schema ?? 'public');
  let owned: pg.Pool | undefined;
  let db: Kysely<Database>;
  if (options.kysely) {
    db = options.kysely as Kysely<Database>;
  } else {
    if (!options.pool) {
      owned = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 10 });
    }
    const pool = options.pool ?? (owned as pg.Pool);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (owned) await db.destroy();
  };
  const listenConfig = options.pool
    ? (options.pool as unknown as { options: pg.ClientConfig }).options
    : options.connectionString
      ? { connectionString: options.connectionString }
      : undefined;
  const notifications = listenConfig
    ? pgNotifications(listenConfig, (error) => {
        // A dropped listener is re-opened; polling covers the gap.
        console.warn('[floworch] queue listener connection failed; reconnecting', error);
      })
    : undefined;
  const storage = assembleStorage(
    'postgresql',
    db,
    schema,
    options.clock ?? systemClock,
    close,
    notifications,
  );
  try {
    // Ping first so connection failures are explained with the server's address.
    await storage.ping();
    if (options.migrate ?? true) await migratePostgres(db, { schema });
  } catch (error) {
    await close();
    throw explainConnectionError(error, describeTarget(options.connectionString)) ?? error;
  }
  return storage;
}

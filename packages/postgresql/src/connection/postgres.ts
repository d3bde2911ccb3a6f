import { type Clock, consoleLogger, InvalidArgumentError, type Logger, systemClock } from '@floworch/core';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import type { Database } from '../schema/database.js';
import { migratePostgres, validateSchemaName } from '../schema/migrator.js';
import { assembleStorage, type PostgresStorage } from '../storage.js';
import { explainConnectionError } from './explain.js';
import { pgNotifications } from './notifications.js';
import { createOwnedPool, POSTGRES_TIMEOUT_DEFAULTS } from './pool.js';

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
  /**
   * Limit for opening one connection, in ms (default 10 000; 0 = none). Opening the storage
   * against a server that does not answer fails within it, naming host and port.
   * Only for a pool the backend creates.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Server-side `statement_timeout` of every connection, in ms (default 30 000; 0 = none).
   * Only for a pool the backend creates.
   */
  readonly statementTimeoutMs?: number;
  /**
   * Limit for waiting for a free connection when all `maxConnections` are busy, in ms
   * (default 30 000; 0 = none). Only for a pool the backend creates.
   */
  readonly acquireTimeoutMs?: number;
  /**
   * `application_name` of the backend's connections (default: the connection string's, else
   * `floworch`); shows in `pg_stat_activity`. Only for a pool the backend creates.
   */
  readonly applicationName?: string;
  /**
   * Receives dropped-connection warnings (default: JSON lines on the console). A pool you pass in
   * needs its own `'error'` listener.
   */
  readonly logger?: Logger;
}

/** Reads a timeout option: a finite number ≥ 0, else an {@link InvalidArgumentError}. */
function timeoutOption(name: keyof typeof POSTGRES_TIMEOUT_DEFAULTS, value: number | undefined): number {
  if (value === undefined) return POSTGRES_TIMEOUT_DEFAULTS[name];
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(name, 'must be a number of milliseconds ≥ 0 (0 = no limit)');
  }
  return Math.floor(value);
}

/** `host:port/database` of a connection string, without credentials, for error messages. */
function describeTarget(connectionString: string | undefined): string {
  if (!connectionString) return 'the configured server';
  try {
    const url = new URL(connectionString);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
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
  const target = describeTarget(options.connectionString);
  const connectTimeoutMs = timeoutOption('connectTimeoutMs', options.connectTimeoutMs);
  const logger = options.logger ?? consoleLogger({ component: 'floworch-postgresql' });
  let owned: pg.Pool | undefined;
  let db: Kysely<Database>;
  if (options.kysely) {
    db = options.kysely as Kysely<Database>;
  } else {
    if (!options.pool) {
      owned = createOwnedPool({
        connectionString: options.connectionString as string,
        max: options.maxConnections ?? 10,
        connectTimeoutMs,
        statementTimeoutMs: timeoutOption('statementTimeoutMs', options.statementTimeoutMs),
        acquireTimeoutMs: timeoutOption('acquireTimeoutMs', options.acquireTimeoutMs),
        applicationName: options.applicationName,
        logger,
        target,
      });
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
  // The queue's LISTEN connection uses the pool's settings (name, keep-alive, timeouts).
  const listenPool = (owned ?? options.pool) as unknown as { options?: pg.ClientConfig } | undefined;
  const notifications = listenPool?.options
    ? pgNotifications({ ...listenPool.options, connectionTimeoutMillis: connectTimeoutMs }, (error) =>
        // A dropped listener is re-opened with back-off; polling covers the gap.
        logger.warn('queue listener connection failed; reconnecting', { error }),
      )
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
    throw explainConnectionError(error, target, owned ? connectTimeoutMs : undefined) ?? error;
  }
  return storage;
}

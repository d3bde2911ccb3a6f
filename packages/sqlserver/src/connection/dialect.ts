import { consoleLogger, type Logger } from '@floworch/core';
import { MssqlDialect } from 'kysely';
import * as Tarn from 'tarn';
import * as Tedious from 'tedious';
import type { SqlServerConnectionOptions } from './connection-string.js';

/** Pool sizing and limits of {@link createSqlServerDialect}. */
export interface SqlServerPoolOptions {
  /** Minimum idle connections (default 0). */
  readonly min?: number;
  /** Maximum connections (default 10). */
  readonly max?: number;
  /** Limit for waiting for a free connection when all `max` are busy, in ms (default 30 000). */
  readonly acquireTimeoutMs?: number;
}

/** Default wait for a pooled connection (ms). */
export const SQLSERVER_ACQUIRE_TIMEOUT_MS = 30_000;

/** Where connection warnings go when no logger is given. */
const defaultLogger: Logger = consoleLogger({ component: 'floworch-sqlserver' });

/** The fields of a driver error worth a log line. */
function errorFields(error: unknown): Record<string, unknown> {
  const e = error as { message?: string; code?: string } | null;
  return { error: e?.message ?? String(error), code: e?.code };
}

/** The tedious configuration for one connection (exported for tests; no secrets are logged). */
export function toTediousConfig(options: SqlServerConnectionOptions): Tedious.ConnectionConfiguration {
  return {
    server: options.server,
    authentication: {
      type: 'default',
      options: { userName: options.user, password: options.password },
    },
    options: {
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.instanceName !== undefined ? { instanceName: options.instanceName } : {}),
      ...(options.database !== undefined ? { database: options.database } : {}),
      encrypt: options.encrypt,
      trustServerCertificate: options.trustServerCertificate,
      connectTimeout: options.connectTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      appName: options.appName,
      // Every statement relies on READ COMMITTED plus explicit lock hints.
      connectionIsolationLevel: Tedious.ISOLATION_LEVEL.READ_COMMITTED,
      useUTC: true,
    },
  };
}

/**
 * The tedious module handed to kysely. kysely binds every JS `Date` parameter as
 * `TYPES.DateTime`, i.e. SQL `datetime`, which rounds to 1/300 s and would shift stored instants.
 * Aliasing `DateTime` to `DateTimeOffset` makes every Date a `datetimeoffset(7)` parameter, so
 * clock values reach the `DATETIMEOFFSET` columns exactly (ms precision, UTC).
 */
export function tediousForKysely(config: Tedious.ConnectionConfiguration, logger: Logger = defaultLogger) {
  const target = `${config.server}:${config.options?.port ?? 1433}`;
  return {
    ...Tedious,
    TYPES: { ...Tedious.TYPES, DateTime: Tedious.TYPES.DateTimeOffset },
    connectionFactory: () => {
      const connection = new Tedious.Connection(config);
      // A socket error on a pooled connection (server restart, KILL, network cut) is emitted as
      // 'error'. Logged here; kysely marks the connection broken and tarn's validation replaces it.
      connection.on('error', (error) => {
        logger.warn('SQL Server connection dropped; the pool replaces it', { target, ...errorFields(error) });
      });
      return connection;
    },
  };
}

/** The tarn pool options (exported for tests): sizes, acquire and create limits. */
export function tarnOptions(options: SqlServerConnectionOptions, pool: SqlServerPoolOptions = {}) {
  return {
    min: pool.min ?? 0,
    max: pool.max ?? 10,
    acquireTimeoutMillis: pool.acquireTimeoutMs ?? SQLSERVER_ACQUIRE_TIMEOUT_MS,
    // tedious enforces the connect timeout; tarn's own create limit only backs it up.
    createTimeoutMillis: options.connectTimeoutMs + 5_000,
    // Without this tarn retries a failing connect silently until the acquire times out, and the
    // caller gets "operation timed out" instead of the driver's reason.
    propagateCreateError: true,
  };
}

/**
 * A kysely `MssqlDialect` over tedious with a tarn pool. Connect and statement timeouts come from
 * `options` (`connectTimeoutMs`, `requestTimeoutMs`); the pool's acquire timeout from `pool`.
 * Dropped connections are reported to `logger` (default: JSON lines on the console).
 */
export function createSqlServerDialect(
  options: SqlServerConnectionOptions,
  pool: SqlServerPoolOptions = {},
  logger?: Logger,
): MssqlDialect {
  return new MssqlDialect({
    tarn: { ...Tarn, options: tarnOptions(options, pool) },
    tedious: tediousForKysely(toTediousConfig(options), logger),
    // No statement changes session state (SET options, temp tables), so skip the reset round trip.
    resetConnectionsOnRelease: false,
  });
}

import { MssqlDialect } from 'kysely';
import * as Tarn from 'tarn';
import * as Tedious from 'tedious';
import type { SqlServerConnectionOptions } from './connection-string.js';

/** Pool sizing of {@link createSqlServerDialect}. */
export interface SqlServerPoolOptions {
  /** Minimum idle connections (default 0). */
  readonly min?: number;
  /** Maximum connections (default 10). */
  readonly max?: number;
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
export function tediousForKysely(config: Tedious.ConnectionConfiguration) {
  return {
    ...Tedious,
    TYPES: { ...Tedious.TYPES, DateTime: Tedious.TYPES.DateTimeOffset },
    connectionFactory: () => new Tedious.Connection(config),
  };
}

/** A kysely `MssqlDialect` over tedious with a tarn pool. */
export function createSqlServerDialect(
  options: SqlServerConnectionOptions,
  pool: SqlServerPoolOptions = {},
): MssqlDialect {
  return new MssqlDialect({
    tarn: { ...Tarn, options: { min: pool.min ?? 0, max: pool.max ?? 10 } },
    tedious: tediousForKysely(toTediousConfig(options)),
    // No statement changes session state (SET options, temp tables), so skip the reset round trip.
    resetConnectionsOnRelease: false,
  });
}

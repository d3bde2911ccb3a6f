import type { Logger } from '@floworch/core';
import pg from 'pg';

/** Defaults of the timeouts of a pool the backend creates (milliseconds). */
export const POSTGRES_TIMEOUT_DEFAULTS = {
  /** Opening one connection (TCP + startup + authentication). */
  connectTimeoutMs: 10_000,
  /** One statement, enforced by the server (`statement_timeout`). */
  statementTimeoutMs: 30_000,
  /** Waiting for a free connection when the pool is at its maximum. */
  acquireTimeoutMs: 30_000,
} as const;

/** What {@link createOwnedPool} needs. */
export interface OwnedPoolSettings {
  /** `postgres://…` connection string. */
  readonly connectionString: string;
  /** Maximum connections. */
  readonly max: number;
  /** Opening one connection; 0 = no limit. */
  readonly connectTimeoutMs: number;
  /** Server-side `statement_timeout`; 0 = none. */
  readonly statementTimeoutMs: number;
  /** Waiting for a pooled connection; 0 = no limit. */
  readonly acquireTimeoutMs: number;
  /** `application_name` of every connection; `undefined` keeps the connection string's (or "floworch"). */
  readonly applicationName: string | undefined;
  /** Where dropped connections are reported. */
  readonly logger: Logger;
  /** `host:port/database`, for log lines. */
  readonly target: string;
}

/** The fields of a pg error worth a log line (never the connection string). */
function errorFields(error: unknown): Record<string, unknown> {
  const e = error as { message?: string; code?: string } | null;
  return { error: e?.message ?? String(error), code: e?.code };
}

/**
 * A `pg.Pool` that survives its connections being dropped (server restart, failover,
 * `pg_terminate_backend`, a proxy's idle cut). Without an `'error'` listener, pg re-emits such a
 * drop as an `'error'` event that kills the process; here the drop is logged and the dead
 * connection leaves the pool, so the next query opens a fresh one.
 */
export function createOwnedPool(settings: OwnedPoolSettings): pg.Pool {
  const { connectTimeoutMs, logger, target } = settings;
  // pg-pool uses one `connectionTimeoutMillis` both for the wait in its queue and for each client's
  // connect; a Client subclass gives the connect its own (usually shorter) limit.
  class TimedClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
    }
  }
  const pool = new pg.Pool({
    connectionString: settings.connectionString,
    max: settings.max,
    Client: TimedClient,
    connectionTimeoutMillis: settings.acquireTimeoutMs,
    ...(settings.statementTimeoutMs > 0 ? { statement_timeout: settings.statementTimeoutMs } : {}),
    ...(settings.applicationName !== undefined
      ? { application_name: settings.applicationName }
      : { fallback_application_name: 'floworch' }),
    // TCP keep-alive notices a peer that vanished without closing the socket.
    keepAlive: true,
  });
  // Every connection gets a listener for its whole life, idle or checked out. A drop while in use
  // rejects the running query (the caller sees that error), then emits 'error' — fatal without a
  // listener. pg-pool discards the dead connection (at once when idle, on release otherwise).
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      logger.warn('PostgreSQL connection dropped; the pool discards it and opens a new one on demand', {
        target,
        ...errorFields(error),
      });
    });
  });
  // pg-pool re-emits an idle connection's error on the pool: already logged above.
  pool.on('error', (error) => {
    logger.debug('PostgreSQL idle connection removed from the pool', { target, ...errorFields(error) });
  });
  return pool;
}

import {
  type Clock,
  type FlowStorage,
  InvalidArgumentError,
  type Logger,
  STORAGE_CAPABILITIES,
  type StorageCapability,
  systemClock,
} from '@floworch/core';
import { defineStorage } from '@floworch/core/backend';
import { Kysely, sql } from 'kysely';
import { parseConnectionString, type SqlServerConnectionOptions } from './connection/connection-string.js';
import { createSqlServerDialect, type SqlServerPoolOptions } from './connection/dialect.js';
import { translateSqlServerError } from './connection/errors.js';
import { explainSqlServerConnectError } from './connection/explain.js';
import { type MigrationResult, migrate } from './schema/migrator.js';
import type { SqlContext } from './sql/context.js';
import { DEFAULT_SCHEMA, SqlNames } from './sql/names.js';
import { SqlServerControlStore } from './stores/control-store.js';
import { SqlServerFlowStore } from './stores/flow-store.js';
import { SqlServerOutputs } from './stores/outputs.js';
import { SqlServerQueueStore } from './stores/queue-store.js';
import { SqlServerRetentionStore } from './stores/retention.js';
import { SqlServerRunStore } from './stores/run-store.js';
import { SqlServerRuntimeStore } from './stores/runtime-store.js';
import { SqlServerScheduleStore } from './stores/schedule-store.js';
import { SqlServerSignalStore } from './stores/signal-store.js';
import { SqlServerWebhookRejectionStore, SqlServerWebhookReplayStore } from './stores/webhook-stores.js';

/** A kysely instance typed with any database schema (callers bring their own). */
// biome-ignore lint/suspicious/noExplicitAny: callers' Kysely instances carry their own table types.
export type AnyKysely = Kysely<any>;

/** Where a SQL Server backend gets its connections: exactly one of the two. */
export type SqlServerConnectionSource =
  | {
      /** ADO-style (`Server=…;Database=…;User Id=…;Password=…`) or `mssql://` URL. */
      readonly connectionString: string;
      readonly kysely?: undefined;
    }
  | {
      /**
       * An existing kysely instance over `MssqlDialect`. The backend does not own it: `close()`
       * leaves it open.
       */
      readonly kysely: AnyKysely;
      readonly connectionString?: undefined;
    };

/** Options shared by {@link createSqlServerStorage} and `createSqlServerWebhookStores`. */
export type SqlServerStorageOptions = SqlServerConnectionSource & {
  /** Schema holding the tables (default `dbo`; created when missing). */
  readonly schema?: string;
  /** Source of every "now" the stores stamp (default: the system clock). */
  readonly clock?: Clock;
  /** Pool sizing when connecting from a connection string. */
  readonly pool?: SqlServerPoolOptions;
  /**
   * Limit for opening one connection, in ms (default: the string's `Connect Timeout`, else
   * 15 000). Opening against a server that does not answer fails within it, naming host and port.
   */
  readonly connectTimeoutMs?: number;
  /**
   * Limit for one statement, in ms (default: the string's `Command Timeout`, else 30 000;
   * 0 = none). The driver cancels the request and the statement fails.
   */
  readonly statementTimeoutMs?: number;
  /** Limit for waiting for a free pooled connection, in ms (default 30 000). */
  readonly acquireTimeoutMs?: number;
  /** Receives dropped-connection warnings (default: JSON lines on the console). */
  readonly logger?: Logger;
  /**
   * Run the migrator before returning (default `true`). Replicas starting together are safe:
   * migrations are serialised by `sp_getapplock`.
   */
  readonly migrate?: boolean;
};

/** The SQL Server backend: every `@floworch/core` storage contract. */
export interface SqlServerStorage extends Required<Omit<FlowStorage, 'schemaStatus'>> {
  /** The schema the tables live in. */
  readonly schema: string;
  /** The kysely instance the stores use. */
  readonly db: AnyKysely;
  /** What the migrator did at creation (`null` when `migrate: false`). */
  readonly migration: MigrationResult | null;
}

/** A kysely instance and whether this package must destroy it on close. */
export interface OwnedKysely {
  /** The instance. */
  readonly db: AnyKysely;
  /** True when created here from a connection string. */
  readonly owned: boolean;
  /** The connection settings, when created here. */
  readonly settings?: SqlServerConnectionOptions;
}

/** Options {@link openKysely} reads besides the connection source. */
export interface SqlServerConnectionTuning {
  readonly pool?: SqlServerPoolOptions;
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
  readonly acquireTimeoutMs?: number;
  readonly logger?: Logger;
}

/** A timeout option: a finite number of ms (≥ 1, or ≥ 0 when `zeroMeansNone`), else an error. */
function timeoutOption(name: string, value: number | undefined, zeroMeansNone: boolean): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < (zeroMeansNone ? 0 : 1)) {
    throw new InvalidArgumentError(
      name,
      `must be a number of milliseconds ${zeroMeansNone ? '≥ 0 (0 = none)' : '≥ 1'}`,
    );
  }
  return Math.floor(value);
}

/** The parsed connection string with the explicit timeout options applied over it. */
export function connectionSettings(
  connectionString: string,
  tuning: SqlServerConnectionTuning = {},
): SqlServerConnectionOptions {
  const parsed = parseConnectionString(connectionString);
  const connectTimeoutMs = timeoutOption('connectTimeoutMs', tuning.connectTimeoutMs, false);
  const statementTimeoutMs = timeoutOption('statementTimeoutMs', tuning.statementTimeoutMs, true);
  return {
    ...parsed,
    ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
    ...(statementTimeoutMs !== undefined ? { requestTimeoutMs: statementTimeoutMs } : {}),
  };
}

/** Resolves the connection source of the options into a kysely instance. */
export function openKysely(options: SqlServerConnectionSource & SqlServerConnectionTuning): OwnedKysely {
  const hasString = typeof options.connectionString === 'string';
  const hasKysely = options.kysely !== undefined && options.kysely !== null;
  if (hasString === hasKysely) {
    throw new InvalidArgumentError(
      'options',
      'give exactly one of connectionString (ADO-style or mssql:// URL) or kysely (a Kysely instance over MssqlDialect)',
    );
  }
  if (hasKysely) return { db: options.kysely as AnyKysely, owned: false };
  const settings = connectionSettings(options.connectionString as string, options);
  const acquireTimeoutMs = timeoutOption('acquireTimeoutMs', options.acquireTimeoutMs, false);
  const pool = { ...options.pool, ...(acquireTimeoutMs !== undefined ? { acquireTimeoutMs } : {}) };
  return {
    db: new Kysely<unknown>({ dialect: createSqlServerDialect(settings, pool, options.logger) }),
    owned: true,
    settings,
  };
}

/**
 * Creates the SQL Server backend and (by default) migrates its schema first.
 *
 * @example
 * ```ts
 * const storage = await createSqlServerStorage({
 *   connectionString: 'Server=localhost,1433;Database=flows;User Id=sa;Password=…;Encrypt=false',
 * });
 * await storage.flows.save({ id: crypto.randomUUID(), name: 'hello' });
 * await storage.close();
 * ```
 * @throws InvalidArgumentError for a malformed connection string or schema name
 * @throws StorageError when the migration fails or the schema is newer than this release
 */
export async function createSqlServerStorage(options: SqlServerStorageOptions): Promise<SqlServerStorage> {
  const names = new SqlNames(options.schema ?? DEFAULT_SCHEMA);
  const clock = options.clock ?? systemClock;
  const { db, owned, settings } = openKysely(options);
  let migration: MigrationResult | null = null;
  try {
    if (options.migrate !== false) migration = await migrate(db, names, clock.now());
  } catch (error) {
    if (owned) await db.destroy();
    throw (settings && explainSqlServerConnectError(error, settings)) ?? error;
  }
  const ctx: SqlContext = { db, n: names, clock };
  const outputs = new SqlServerOutputs(ctx);
  const capabilities: readonly StorageCapability[] = STORAGE_CAPABILITIES;
  return defineStorage<SqlServerStorage>({
    name: 'sqlserver',
    schema: names.schema,
    db,
    migration,
    clock,
    capabilities,
    flows: new SqlServerFlowStore(ctx),
    runs: new SqlServerRunStore(ctx),
    outputs,
    events: outputs,
    runtime: new SqlServerRuntimeStore(ctx),
    queue: new SqlServerQueueStore(ctx),
    control: new SqlServerControlStore(ctx),
    retention: new SqlServerRetentionStore(ctx),
    signals: new SqlServerSignalStore(ctx),
    schedules: new SqlServerScheduleStore(ctx),
    webhookReplay: new SqlServerWebhookReplayStore(ctx),
    webhookRejections: new SqlServerWebhookRejectionStore(ctx),
    ping: async () => {
      await sql`SELECT 1 AS ok;`.execute(db);
    },
    // The guard runs this once however often close() is called.
    close: async () => {
      if (owned) await db.destroy();
    },
    translateError: translateSqlServerError,
  });
}

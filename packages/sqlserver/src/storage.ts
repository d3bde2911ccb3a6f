import {
  type Clock,
  type FlowStorage,
  InvalidArgumentError,
  STORAGE_CAPABILITIES,
  type StorageCapability,
  systemClock,
} from '@floworch/core';
import { Kysely, sql } from 'kysely';
import { parseConnectionString } from './connection/connection-string.js';
import { createSqlServerDialect, type SqlServerPoolOptions } from './connection/dialect.js';
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

/** Options shared by {@link createSqlServerStorage} and `sqlServerWebhookHardening`. */
export type SqlServerOptions = SqlServerConnectionSource & {
  /** Schema holding the tables (default `dbo`; created when missing). */
  readonly schema?: string;
  /** Source of every "now" the stores stamp (default: the system clock). */
  readonly clock?: Clock;
  /** Pool sizing when connecting from a connection string. */
  readonly pool?: SqlServerPoolOptions;
  /**
   * Run the migrator before returning (default `true`). Replicas starting together are safe:
   * migrations are serialised by `sp_getapplock`.
   */
  readonly migrate?: boolean;
};

/** The SQL Server backend: every `@floworch/core` storage contract. */
export interface SqlServerStorage extends Required<FlowStorage> {
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
}

/** Resolves the connection source of the options into a kysely instance. */
export function openKysely(
  options: SqlServerConnectionSource & { pool?: SqlServerPoolOptions },
): OwnedKysely {
  const hasString = typeof options.connectionString === 'string';
  const hasKysely = options.kysely !== undefined && options.kysely !== null;
  if (hasString === hasKysely) {
    throw new InvalidArgumentError(
      'options',
      'give exactly one of connectionString (ADO-style or mssql:// URL) or kysely (a Kysely instance over MssqlDialect)',
    );
  }
  if (hasKysely) return { db: options.kysely as AnyKysely, owned: false };
  const parsed = parseConnectionString(options.connectionString as string);
  return { db: new Kysely<unknown>({ dialect: createSqlServerDialect(parsed, options.pool) }), owned: true };
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
export async function createSqlServerStorage(options: SqlServerOptions): Promise<SqlServerStorage> {
  const names = new SqlNames(options.schema ?? DEFAULT_SCHEMA);
  const clock = options.clock ?? systemClock;
  const { db, owned } = openKysely(options);
  let migration: MigrationResult | null = null;
  try {
    if (options.migrate !== false) migration = await migrate(db, names, clock.now());
  } catch (error) {
    if (owned) await db.destroy();
    throw error;
  }
  const ctx: SqlContext = { db, n: names, clock };
  const outputs = new SqlServerOutputs(ctx);
  const capabilities: readonly StorageCapability[] = STORAGE_CAPABILITIES;
  let closed = false;
  return {
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
    close: async () => {
      if (closed) return;
      closed = true;
      if (owned) await db.destroy();
    },
  };
}

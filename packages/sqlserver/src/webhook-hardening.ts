import { systemClock, type WebhookRejectionStore, type WebhookReplayStore } from '@floworch/core';
import { type MigrationResult, migrate } from './schema/migrator.js';
import type { SqlContext } from './sql/context.js';
import { DEFAULT_SCHEMA, SqlNames } from './sql/names.js';
import { openKysely, type SqlServerOptions } from './storage.js';
import { SqlServerWebhookRejectionStore, SqlServerWebhookReplayStore } from './stores/webhook-stores.js';

/** The webhook replay and rejection stores on SQL Server, for a webhook front end. */
export interface SqlServerWebhookHardening {
  /** Nonce ledger (`WebhookReplayNonces`): replay protection shared by every replica. */
  readonly replay: WebhookReplayStore;
  /** Dead-letter queue and recent-deliveries log (`WebhookRejections`). */
  readonly rejections: WebhookRejectionStore;
  /** What the migrator did (`null` when `migrate: false`). */
  readonly migration: MigrationResult | null;
  /** Closes the pool when it was opened from a connection string. Idempotent. */
  close(): Promise<void>;
}

/**
 * Replay-nonce and rejection stores on SQL Server, replacing the in-memory defaults of a webhook
 * receiver (the counterpart of the reference's `AddSqlServerWebhookHardening`). Takes the same
 * options as `createSqlServerStorage` and migrates the same schema, so it can point at the
 * orchestrator's database or a separate one.
 *
 * @example
 * ```ts
 * const hardening = await sqlServerWebhookHardening({ connectionString: process.env.FLOWORCH_MSSQL_URL! });
 * const fresh = await hardening.replay.tryRegister(flowId, 'webhook', nonce, expiresAt);
 * ```
 */
export async function sqlServerWebhookHardening(
  options: SqlServerOptions,
): Promise<SqlServerWebhookHardening> {
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
  let closed = false;
  return {
    replay: new SqlServerWebhookReplayStore(ctx),
    rejections: new SqlServerWebhookRejectionStore(ctx),
    migration,
    close: async () => {
      if (closed) return;
      closed = true;
      if (owned) await db.destroy();
    },
  };
}

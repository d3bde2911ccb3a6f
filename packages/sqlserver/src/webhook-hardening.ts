import type { WebhookRejectionStore, WebhookReplayStore } from '@floworch/core';
import type { MigrationResult } from './schema/migrator.js';
import { createSqlServerStorage, type SqlServerStorageOptions } from './storage.js';

/** The webhook replay and rejection stores on SQL Server, for a webhook front end. */
export interface SqlServerWebhookStores {
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
 * const hardening = await createSqlServerWebhookStores({ connectionString: process.env.FLOWORCH_MSSQL_URL! });
 * const fresh = await hardening.replay.tryRegister(flowId, 'webhook', nonce, expiresAt);
 * ```
 */
export async function createSqlServerWebhookStores(
  options: SqlServerStorageOptions,
): Promise<SqlServerWebhookStores> {
  // The full backend opens and migrates the same way; only its webhook stores are handed out.
  const storage = await createSqlServerStorage(options);
  return {
    replay: storage.webhookReplay,
    rejections: storage.webhookRejections,
    migration: storage.migration,
    close: () => storage.close(),
  };
}

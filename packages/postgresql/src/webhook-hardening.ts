import type { WebhookRejectionStore, WebhookReplayStore } from '@floworch/core';
import { createPostgresStorage, type PostgresStorageOptions } from './connection/postgres.js';

/** The PostgreSQL webhook stores, for `@floworch/webhook-hardening`. */
export interface PostgresWebhookStores {
  /** Replay-nonce store (`webhook_replay_nonces`). */
  readonly replay: WebhookReplayStore;
  /** DLQ / recent-deliveries log (`webhook_rejections`). */
  readonly rejections: WebhookRejectionStore;
  /** Releases the pool when this call created it. */
  close(): Promise<void>;
}

/**
 * Opens just the webhook replay and rejection stores on PostgreSQL (same tables, same migrator
 * as the full backend), for services that verify webhooks but run flows elsewhere.
 *
 * @example
 * const { replay, rejections } = await createPostgresWebhookStores({ connectionString: process.env.DATABASE_URL });
 */
export async function createPostgresWebhookStores(
  options: PostgresStorageOptions,
): Promise<PostgresWebhookStores> {
  const storage = await createPostgresStorage(options);
  return {
    replay: storage.webhookReplay,
    rejections: storage.webhookRejections,
    close: () => storage.close(),
  };
}

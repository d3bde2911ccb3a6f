/**
 * `@floworch/inmemory`: an in-memory backend implementing every `@floworch/core` storage contract.
 * @packageDocumentation
 */
export { createInMemoryStorage, type InMemoryStorage, type InMemoryStorageOptions } from './storage.js';
export {
  createInMemoryWebhookRejectionStore,
  createInMemoryWebhookReplayStore,
  type InMemoryWebhookStoreOptions,
} from './webhook-stores.js';

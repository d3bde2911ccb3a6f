/**
 * `@floworch/inmemory`: an in-memory backend implementing every `@floworch/core` storage contract.
 * @packageDocumentation
 */
export { InMemoryControlStore } from './control-store.js';
export { InMemoryFlowStore } from './flow-store.js';
export { InMemoryOutputs } from './outputs.js';
export { InMemoryRetentionStore } from './retention.js';
export { InMemoryRunStore } from './run-store.js';
export { InMemoryRuntimeStore } from './runtime-store.js';
export { InMemoryScheduleStore } from './schedule-store.js';
export { InMemorySignalStore } from './signal-store.js';
export { MemoryState } from './state.js';
export { createInMemoryStorage, type InMemoryStorage, type InMemoryStorageOptions } from './storage.js';
export {
  createInMemoryWebhookRejectionStore,
  createInMemoryWebhookReplayStore,
  InMemoryWebhookRejectionStore,
  InMemoryWebhookReplayStore,
  type InMemoryWebhookStoreOptions,
  type WebhookMemory,
} from './webhook-stores.js';

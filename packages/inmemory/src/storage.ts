import {
  type Clock,
  type FlowStorage,
  STORAGE_CAPABILITIES,
  type StorageCapability,
  systemClock,
} from '@floworch/core';
import { defineStorage } from '@floworch/core/backend';
import { InMemoryControlStore } from './control-store.js';
import { InMemoryFlowStore } from './flow-store.js';
import { InMemoryOutputs } from './outputs.js';
import { InMemoryQueueStore } from './queue-store.js';
import { InMemoryRetentionStore } from './retention.js';
import { InMemoryRunStore } from './run-store.js';
import { InMemoryRuntimeStore } from './runtime-store.js';
import { InMemoryScheduleStore } from './schedule-store.js';
import { InMemorySignalStore } from './signal-store.js';
import { MemoryState } from './state.js';
import { InMemoryWebhookRejectionStore, InMemoryWebhookReplayStore } from './webhook-stores.js';

/** Options of {@link createInMemoryStorage}. */
export interface InMemoryStorageOptions {
  /** Time source for every "now" the stores stamp (default: the system clock). */
  readonly clock?: Clock;
  /** Size of the webhook DLQ ring buffer (default 1 000). */
  readonly dlqCapacity?: number;
}

/** The in-memory backend: every contract, in one process. */
export interface InMemoryStorage extends Required<Omit<FlowStorage, 'ping' | 'schemaStatus'>> {
  /** Always resolves (memory is always reachable). */
  ping(): Promise<void>;
  /**
   * A second, independent façade over the same data: a stand-in for another process sharing one
   * database (used by race tests).
   */
  createPeer(): InMemoryStorage;
}

function build(state: MemoryState, clock: Clock, dlqCapacity: number): InMemoryStorage {
  const runs = new InMemoryRunStore(state, clock);
  const outputs = new InMemoryOutputs(state, clock);
  const capabilities: readonly StorageCapability[] = STORAGE_CAPABILITIES;
  return defineStorage<InMemoryStorage>({
    name: 'inmemory',
    clock,
    capabilities,
    flows: new InMemoryFlowStore(state, clock),
    runs,
    outputs,
    events: outputs,
    runtime: new InMemoryRuntimeStore(state, clock),
    queue: new InMemoryQueueStore(state, clock),
    control: new InMemoryControlStore(state, clock),
    retention: new InMemoryRetentionStore(state),
    signals: new InMemorySignalStore(state, clock),
    schedules: new InMemoryScheduleStore(state, clock),
    webhookReplay: new InMemoryWebhookReplayStore(state, clock),
    webhookRejections: new InMemoryWebhookRejectionStore(state, clock, dlqCapacity),
    ping: async () => {},
    close: async () => {},
    createPeer: () => build(state, clock, dlqCapacity),
  });
}

/**
 * Creates an in-memory backend implementing every storage contract. Data lives as long as the
 * object; use it for tests, demos and single-process deployments that need no durability.
 *
 * @example
 * const storage = createInMemoryStorage();
 * await storage.flows.save({ id: crypto.randomUUID(), name: 'hello' });
 */
export function createInMemoryStorage(options: InMemoryStorageOptions = {}): InMemoryStorage {
  // Stryker disable all: option checking of this backend, not a storage contract (see inmemory.test.ts).
  const capacity = options.dlqCapacity ?? 1000;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`dlqCapacity must be a positive integer, got ${String(options.dlqCapacity)}`);
  }
  // Stryker restore all
  return build(new MemoryState(), options.clock ?? systemClock, capacity);
}

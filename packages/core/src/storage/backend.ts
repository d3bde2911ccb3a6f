import type { Clock } from '../time/index.js';
import type { FlowRunControlStore } from './control-store.js';
import type { FlowStore } from './flow-store.js';
import type { FlowEventReader, OutputsRepository } from './outputs.js';
import type { FlowStepQueueStore } from './queue-store.js';
import type { FlowRetentionStore } from './retention-store.js';
import type { FlowRunStore } from './run-store.js';
import type { FlowRunRuntimeStore } from './runtime-store.js';
import type { FlowScheduleStateStore } from './schedule-store.js';
import type { FlowSignalStore } from './signal-store.js';
import type { WebhookRejectionStore, WebhookReplayStore } from './webhook-stores.js';

/** Names of the optional contracts a backend may implement. */
export type StorageCapability =
  | 'runtime'
  | 'queue'
  | 'control'
  | 'retention'
  | 'events'
  | 'signals'
  | 'schedules'
  | 'webhookReplay'
  | 'webhookRejections';

/** Every optional capability, in a stable order. */
export const STORAGE_CAPABILITIES: readonly StorageCapability[] = Object.freeze([
  'runtime',
  'queue',
  'control',
  'retention',
  'events',
  'signals',
  'schedules',
  'webhookReplay',
  'webhookRejections',
]);

/**
 * A storage backend: one object bundling every contract it implements, sharing one clock and
 * one connection pool (some guarantees, like a manual retry clearing claims, span contracts).
 *
 * `flows`, `runs` and `outputs` are required. Optional contracts are present exactly when their
 * name is listed in `capabilities`; {@link checkStorageCapabilities} verifies that.
 */
export interface FlowStorage {
  /** Human-readable backend name, e.g. `postgresql`. */
  readonly name: string;
  /** The clock every store stamps "now" from. */
  readonly clock: Clock;
  /** Optional contracts this backend implements. */
  readonly capabilities: readonly StorageCapability[];
  /** Flow definitions. */
  readonly flows: FlowStore;
  /** Runs, steps, attempts, queries, dispatch ledger. */
  readonly runs: FlowRunStore;
  /** Trigger data/headers, step inputs/outputs, event append. */
  readonly outputs: OutputsRepository;
  /** Step statuses and execution claims (the engine requires it). */
  readonly runtime?: FlowRunRuntimeStore;
  /** The durable step queue and atomic run transitions (the engine requires it). */
  readonly queue?: FlowStepQueueStore;
  /** Cancellation, deadlines, idempotency. */
  readonly control?: FlowRunControlStore;
  /** Retention sweeps. */
  readonly retention?: FlowRetentionStore;
  /** Event log reads. */
  readonly events?: FlowEventReader;
  /** WaitForSignal waiters. */
  readonly signals?: FlowSignalStore;
  /** Cron pause/override state. */
  readonly schedules?: FlowScheduleStateStore;
  /** Webhook nonce ledger. */
  readonly webhookReplay?: WebhookReplayStore;
  /** Webhook DLQ. */
  readonly webhookRejections?: WebhookRejectionStore;
  /**
   * Cheap reachability probe (e.g. `SELECT 1`). Rejects when storage is unreachable. When absent,
   * health checks fall back to `flows.getAll()`.
   */
  ping?(signal?: AbortSignal): Promise<void>;
  /**
   * Optional: the schema version found in the database against the one this backend writes, for
   * readiness checks (a replica whose schema is behind or ahead should not take traffic).
   */
  schemaStatus?(): Promise<SchemaStatus>;
  /** Releases pools and handles owned by the backend. Idempotent. */
  close(): Promise<void>;
}

/** Result of {@link FlowStorage.schemaStatus}. */
export interface SchemaStatus {
  /** Version found in the database (0 when not migrated). */
  readonly current: number;
  /** Version this backend writes. */
  readonly expected: number;
  /** True when `current === expected`. */
  readonly upToDate: boolean;
}

/** A capability declared but missing, or present but undeclared. */
export interface CapabilityMismatch {
  /** The capability. */
  readonly capability: StorageCapability;
  /** `declared-but-missing` or `present-but-undeclared`. */
  readonly problem: 'declared-but-missing' | 'present-but-undeclared';
}

/**
 * Compares `storage.capabilities` with the contracts actually present, both ways.
 * @returns the mismatches; empty when the declaration is truthful
 */
export function checkStorageCapabilities(storage: FlowStorage): CapabilityMismatch[] {
  const declared = new Set(storage.capabilities);
  const mismatches: CapabilityMismatch[] = [];
  for (const capability of STORAGE_CAPABILITIES) {
    const present = storage[capability] != null;
    if (declared.has(capability) && !present) {
      mismatches.push({ capability, problem: 'declared-but-missing' });
    } else if (!declared.has(capability) && present) {
      mismatches.push({ capability, problem: 'present-but-undeclared' });
    }
  }
  return mismatches;
}

/** True when `storage` implements `capability` (declared and present). */
export function hasCapability<C extends StorageCapability>(
  storage: FlowStorage,
  capability: C,
): storage is FlowStorage & Required<Pick<FlowStorage, C>> {
  return storage.capabilities.includes(capability) && storage[capability] != null;
}

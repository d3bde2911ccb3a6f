/**
 * The part of the storage layer users of the engine and client need: the contract types to pass
 * a storage around, the clocks, run and step statuses, and the error codes storage rejects with.
 * Helpers for writing a backend live in the `@floworch/core/backend` entry instead.
 * @module
 */
export {
  type FlowStorage,
  hasCapability,
  type SchemaStatus,
  STORAGE_CAPABILITIES,
  type StorageCapability,
} from './backend.js';
export type { FlowRunControlStore } from './control-store.js';
export type { FlowStore } from './flow-store.js';
export { type StorageErrorCode, StorageErrorCodes } from './guard/error-codes.js';
export type { EventLogQuery, EventPage, FlowEventReader, OutputsRepository } from './outputs.js';
export type { FlowStepQueueStore } from './queue-store.js';
export type * from './records.js';
export type { CleanupOptions, CleanupResult, FlowRetentionStore } from './retention-store.js';
export type { FlowRunStore, RunQuery } from './run-store.js';
export type { FlowRunRuntimeStore } from './runtime-store.js';
export type { FlowScheduleStateStore } from './schedule-store.js';
export type { FlowSignalStore } from './signal-store.js';
export {
  type FlowEventType,
  isTerminalRunStatus,
  isTerminalStepStatus,
  RUN_STATUSES,
  type RunStatus,
  type SignalDeliveryStatus,
  STEP_STATUSES,
  type StepStatus,
  type TerminalRunStatus,
  type TimeseriesGranularity,
} from './statuses.js';
export type { WebhookRejectionStore, WebhookReplayStore } from './webhook-stores.js';

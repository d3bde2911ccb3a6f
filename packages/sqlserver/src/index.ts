/**
 * `@floworch/sqlserver`: every `@floworch/core` storage contract on SQL Server, through kysely's
 * MSSQL dialect over tedious (pooled by tarn).
 * @packageDocumentation
 */
export {
  parseConnectionString,
  type SqlServerConnectionOptions,
} from './connection/connection-string.js';
export {
  createSqlServerDialect,
  SQLSERVER_ACQUIRE_TIMEOUT_MS,
  type SqlServerPoolOptions,
  toTediousConfig,
} from './connection/dialect.js';
export {
  CURRENT_SCHEMA_VERSION,
  type MigrationBatch,
  type MigrationResult,
  migrate,
  migrationBatches,
} from './schema/migrator.js';
export type { SqlContext } from './sql/context.js';
export { DEFAULT_SCHEMA, KEY_COLLATION, SqlNames, TABLES, type TableName } from './sql/names.js';
export {
  type AnyKysely,
  connectionSettings,
  createSqlServerStorage,
  type SqlServerConnectionSource,
  type SqlServerConnectionTuning,
  type SqlServerOptions,
  type SqlServerStorage,
} from './storage.js';
export { SqlServerControlStore } from './stores/control-store.js';
export { SqlServerFlowStore } from './stores/flow-store.js';
export { SqlServerOutputs } from './stores/outputs.js';
export { SqlServerQueueStore } from './stores/queue-store.js';
export { SqlServerRetentionStore } from './stores/retention.js';
export { SqlServerRunStore } from './stores/run-store.js';
export { SqlServerRuntimeStore } from './stores/runtime-store.js';
export { SqlServerScheduleStore } from './stores/schedule-store.js';
export { SqlServerSignalStore } from './stores/signal-store.js';
export { SqlServerWebhookRejectionStore, SqlServerWebhookReplayStore } from './stores/webhook-stores.js';
export { type SqlServerWebhookHardening, sqlServerWebhookHardening } from './webhook-hardening.js';

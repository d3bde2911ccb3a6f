export { containsPattern, LIKE_ESCAPE } from './like.js';
export {
  SQLSERVER_CI_COLLATION,
  SQLSERVER_KEY_COLLATION,
  SQLSERVER_MAX_KEY_LENGTH,
  type SqlServerLayerOptions,
  sqlServerInstant,
  sqlServerLayer,
  sqlServerQueryDb,
  sqlServerTraits,
} from './mssql.js';
export { BracketMssqlQueryCompiler } from './mssql-compiler.js';
export {
  logicalNames,
  NamingPlugin,
  type PhysicalNames,
  pascalCase,
  physicalNames,
  postgresNames,
  snakeCase,
  sqlServerNames,
} from './naming.js';
export {
  type ErrorClassifier,
  type PostgresLayerOptions,
  postgresErrors,
  postgresLayer,
  postgresTraits,
} from './postgres.js';
export * from './schema.js';
export { SqlControlStore } from './stores/control-store.js';
export { SqlFlowStore } from './stores/flow-store.js';
export { eventRecord, SqlOutputs } from './stores/outputs.js';
export { SqlRetentionSweep } from './stores/retention.js';
export { type AttemptRow, type RunRow, runRecord, type StepRow, stepRecord } from './stores/run-records.js';
export { SqlRunStore } from './stores/run-store.js';
export { SqlRuntimeStore } from './stores/runtime-store.js';
export { SqlScheduleStore } from './stores/schedule-store.js';
export { SqlSignalStore } from './stores/signal-store.js';
export { SqlWebhookRejectionStore, SqlWebhookReplayStore } from './stores/webhook-stores.js';
export type { SqlDialectName, SqlLayer, SqlTraits, TableLock } from './traits.js';
export { toBool, toDate, toDateOrNull, toNumber, toUuid, toUuidOrNull } from './values.js';
export { DEADLOCK_RETRIES, insertIfAbsent, retryDeadlocks, upsertReturning } from './writes.js';

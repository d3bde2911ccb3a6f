/**
 * `@floworch/sqlserver`: every `@floworch/core` storage contract on SQL Server, through kysely's
 * MSSQL dialect over tedious (pooled by tarn).
 * @packageDocumentation
 */
export {
  parseConnectionString,
  type SqlServerConnectionOptions,
} from './connection/connection-string.js';
export { SQLSERVER_ACQUIRE_TIMEOUT_MS, type SqlServerPoolOptions } from './connection/dialect.js';
export { type MigrationResult, migrateSqlServer, SCHEMA_VERSION } from './schema/migrator.js';
export {
  type AnyKysely,
  createSqlServerStorage,
  type SqlServerConnectionSource,
  type SqlServerStorage,
  type SqlServerStorageOptions,
} from './storage.js';
export { createSqlServerWebhookStores, type SqlServerWebhookStores } from './webhook-hardening.js';

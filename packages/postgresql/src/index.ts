/**
 * @floworch/postgresql — the PostgreSQL storage backend (kysely + pg). The in-process PGlite mode
 * is the separate entry `@floworch/postgresql/pglite` (its packages are optional peers).
 */
export { POSTGRES_TIMEOUT_DEFAULTS } from './connection/pool.js';
export { createPostgresStorage, type PostgresStorageOptions } from './connection/postgres.js';
export type { Database } from './schema/database.js';
export { SCHEMA_VERSION } from './schema/ddl.js';
export { type MigrationResult, migratePostgres } from './schema/migrator.js';
export type { PostgresStorage } from './storage.js';
export { createPostgresWebhookStores, type PostgresWebhookStores } from './webhook-hardening.js';

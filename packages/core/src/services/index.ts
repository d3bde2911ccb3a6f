/**
 * Services around the engine: the cron scheduler, the retention sweeper, the storage health
 * check and the Mermaid exporter. Each is standalone and built on public engine/storage APIs.
 * @module
 */
export * from './cron/index.js';
export * from './health/index.js';
export * from './mermaid/index.js';
export * from './retention/index.js';

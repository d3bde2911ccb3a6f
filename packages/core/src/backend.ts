/**
 * `@floworch/core/backend`: everything a storage backend author needs — the storage contract
 * (interfaces, record types, statuses), `defineStorage`/`guardStorage` that put the shared checks
 * in front of a bundle, the error-code registry, the run transaction, and helpers for paging,
 * ids, text, JSON, events and statistics that keep backends behaving alike.
 * @packageDocumentation
 */

export * from './errors.js';
export * from './ids.js';
export * from './logging/index.js';
export * from './storage/index.js';
export * from './time/index.js';

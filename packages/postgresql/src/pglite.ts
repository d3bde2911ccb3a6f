/**
 * @floworch/postgresql/pglite — the same backend on PGlite (PostgreSQL in WebAssembly, in this
 * process). Needs the optional peers `@electric-sql/pglite` and `kysely-pglite-dialect`.
 */
export { createPgliteStorage, type PgliteStorageOptions } from './connection/pglite.js';

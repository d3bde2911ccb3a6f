import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { type Clock, consoleLogger, type Logger, systemClock } from '@floworch/core';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { Database } from '../schema/database.js';
import { migratePostgres, validateSchemaName } from '../schema/migrator.js';
import { assembleStorage, type PostgresStorage } from '../storage.js';
import { pgliteNotifications } from './notifications.js';
import { guardPglite } from './pglite-guard.js';

/** Options of {@link createPgliteStorage}. */
export interface PgliteStorageOptions {
  /**
   * Where PGlite keeps its files (a directory path, created if missing) — or `memory://` for a
   * throw-away database. Ignored when `pglite` is given.
   */
  readonly dataDir?: string;
  /** A PGlite instance you own (not closed by `close()`). */
  readonly pglite?: PGlite;
  /** Schema for the tables (default `public`). */
  readonly schema?: string;
  /** Time source for every timestamp the stores write (default: the system clock). */
  readonly clock?: Clock;
  /** Receives the error when the PGlite instance becomes unusable (default: the console). */
  readonly logger?: Logger;
}

/**
 * The same backend on PGlite — PostgreSQL compiled to WebAssembly, running in this process with
 * its data in a directory. Start durable and server-free; point `createPostgresStorage` at a real
 * server later without changing anything else. PGlite has a single connection, so statements
 * from concurrent callers queue.
 *
 * @example
 * const storage = await createPgliteStorage({ dataDir: './.floworch/pgdata' });
 */
export async function createPgliteStorage(options: PgliteStorageOptions = {}): Promise<PostgresStorage> {
  const schema = validateSchemaName(options.schema ?? 'public');
  const dataDir = options.dataDir ?? 'memory://';
  // PGlite creates only the last path segment; make the parents so './.floworch/pgdata' works.
  if (!options.pglite && !dataDir.includes('://')) await mkdir(dataDir, { recursive: true });
  const pglite = options.pglite ?? (await PGlite.create(dataDir));
  const owned = options.pglite === undefined;
  const logger = options.logger ?? consoleLogger({ component: 'floworch-pglite' });
  const db = new Kysely<Database>({ dialect: new PGliteDialect(guardPglite(pglite, logger)) });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (owned) await db.destroy();
  };
  try {
    await migratePostgres(db, { schema });
  } catch (error) {
    await close();
    throw error;
  }
  return assembleStorage(
    'pglite',
    db,
    schema,
    options.clock ?? systemClock,
    close,
    pgliteNotifications(pglite),
  );
}

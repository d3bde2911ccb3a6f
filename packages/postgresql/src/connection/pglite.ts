import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PGlite } from '@electric-sql/pglite';
import { type Clock, consoleLogger, type Logger, systemClock } from '@floworch/core';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import type { Database } from '../schema/database.js';
import { migratePostgres, validateSchemaName } from '../schema/migrator.js';
import { assembleStorage, type PostgresStorage } from '../storage.js';
import type { NotificationSource } from '../stores/queue-store.js';
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
  /**
   * Where start-up progress goes (creating a fresh database says what it does when it takes
   * longer than a moment) and the error when the PGlite instance becomes unusable (default: info
   * and above to the console).
   */
  readonly logger?: Logger;
  /**
   * Directory caching a freshly initialised, empty cluster per PGlite version (default
   * `<os tmpdir>/floworch-pglite`; `false` turns it off). The first fresh database on a machine
   * runs PGlite's initdb (seconds, a second WebAssembly instance); every later fresh database —
   * `memory://` included — is unpacked from the template instead (PGlite's `loadDataDir`).
   */
  readonly templateCache?: string | false;
}

/** How long a fresh open may take before progress is printed, and how often after that. */
const PROGRESS_AFTER_MS = 1_500;
const PROGRESS_EVERY_MS = 5_000;

/** The installed PGlite version (keys the template: a template from another version is not used). */
function pgliteVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
    const manifest = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Whether `dataDir` holds no cluster yet (PGlite will have to create one). */
async function isFresh(dataDir: string): Promise<boolean> {
  if (dataDir.includes('://')) return dataDir.startsWith('memory://');
  return !existsSync(join(dataDir, 'PG_VERSION'));
}

/**
 * Logs progress while `work` runs: at once when `expectSlow` (initdb blocks the event loop, so a
 * timer could not speak until it is over), otherwise once it has taken longer than a moment.
 */
async function withProgress<T>(
  logger: Logger,
  what: string,
  expectSlow: boolean,
  work: () => Promise<T>,
): Promise<T> {
  const started = performance.now();
  let said = false;
  const elapsed = () => Math.round((performance.now() - started) / 100) / 10;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = (): void => {
    logger.info(
      said ? `${what}: still working (${elapsed()} s)` : `${what} (first start only, a few seconds)…`,
    );
    said = true;
    timer = setTimeout(tick, PROGRESS_EVERY_MS);
    timer.unref?.();
  };
  if (expectSlow) tick();
  else {
    timer = setTimeout(tick, PROGRESS_AFTER_MS);
    timer.unref?.();
  }
  try {
    const result = await work();
    if (said) logger.info(`${what}: done in ${elapsed()} s`);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens PGlite on `dataDir`. A fresh cluster is unpacked from the cached template when there is
 * one (skipping initdb and its second WebAssembly instance: faster, less memory); otherwise it
 * is created by initdb and, when caching is on, saved as the template for next time.
 */
async function openPglite(dataDir: string, options: PgliteStorageOptions, logger: Logger): Promise<PGlite> {
  if (!(await isFresh(dataDir))) return PGlite.create(dataDir);
  const cacheDir =
    options.templateCache === false ? null : (options.templateCache ?? join(tmpdir(), 'floworch-pglite'));
  const templateFile = cacheDir ? join(cacheDir, `template-${pgliteVersion()}.tar`) : null;
  const template = templateFile && existsSync(templateFile) ? await readFile(templateFile) : null;
  const where = dataDir.startsWith('memory://') ? 'in memory' : `in ${dataDir}`;
  if (template) {
    try {
      return await withProgress(logger, `Creating a PGlite database ${where} from the template`, false, () =>
        PGlite.create(dataDir, { loadDataDir: new Blob([template]) }),
      );
    } catch (error) {
      // A damaged template must not stop the open: drop it, clear what it left, create afresh.
      logger.warn('PGlite template unusable; creating the database with initdb', { templateFile, error });
      await rm(templateFile!, { force: true });
      if (!dataDir.includes('://')) {
        for (const entry of await readdir(dataDir))
          await rm(join(dataDir, entry), { recursive: true, force: true });
      }
    }
  }
  const pglite = await withProgress(logger, `Creating a new PGlite database ${where}`, true, () =>
    PGlite.create(dataDir),
  );
  if (templateFile) await saveTemplate(pglite, templateFile, logger);
  return pglite;
}

/** Saves a just-initialised cluster as the template (write, then rename: readers never see half). */
async function saveTemplate(pglite: PGlite, templateFile: string, logger: Logger): Promise<void> {
  try {
    const dump = await pglite.dumpDataDir('none');
    await mkdir(dirname(templateFile), { recursive: true });
    const partial = `${templateFile}.${process.pid}.${Date.now()}.partial`;
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, templateFile);
  } catch (error) {
    logger.warn('could not cache the PGlite template (the next fresh database runs initdb again)', { error });
  }
}

/**
 * The same backend on PGlite — PostgreSQL compiled to WebAssembly, running in this process with
 * its data in a directory. Start durable and server-free; point `createPostgresStorage` at a real
 * server later without changing anything else. PGlite has a single connection, so statements
 * from concurrent callers queue.
 *
 * A fresh data directory is created from a cached template of an empty cluster when one exists
 * (see `templateCache`); progress is logged when creating it takes a while.
 *
 * @example
 * const storage = await createPgliteStorage({ dataDir: './.floworch/pgdata' });
 */
export async function createPgliteStorage(options: PgliteStorageOptions = {}): Promise<PostgresStorage> {
  const schema = validateSchemaName(options.schema ?? 'public');
  const dataDir = options.dataDir ?? 'memory://';
  // PGlite creates only the last path segment; make the parents so './.floworch/pgdata' works.
  if (!options.pglite && !dataDir.includes('://')) await mkdir(dataDir, { recursive: true });
  const logger = options.logger ?? consoleLogger({ component: 'floworch-pglite' }, 'info');
  const pglite = options.pglite ?? (await openPglite(dataDir, options, logger));
  const owned = options.pglite === undefined;
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

/** LISTEN through PGlite's own API (in-process; the same instance is the whole database). */
export function pgliteNotifications(pglite: PGlite): NotificationSource {
  return async (channel, onPayload) => {
    const unsubscribe = await pglite.listen(channel, (payload) => onPayload(payload));
    return async () => {
      await unsubscribe();
    };
  };
}

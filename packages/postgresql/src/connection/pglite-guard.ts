import type { PGlite } from '@electric-sql/pglite';
import { type Logger, StorageError } from '@floworch/core';

/**
 * True for errors after which a PGlite instance cannot run another statement: it was closed, or
 * the WebAssembly runtime aborted. SQL errors (constraint, syntax, serialization) are not fatal.
 */
export function isFatalPgliteError(pglite: Pick<PGlite, 'closed'>, error: unknown): boolean {
  if (pglite.closed) return true;
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  if (name === 'RuntimeError') return true; // WebAssembly.RuntimeError (no DOM lib types here)
  return typeof message === 'string' && /PGlite is closed|Aborted\(/.test(message);
}

/**
 * Wraps a PGlite instance so that its failures are explicit. PGlite runs in this process and has
 * no socket to drop, so there is no `'error'` event to handle; what can go wrong is the instance
 * being closed underneath the storage or its WebAssembly runtime aborting. Then every statement
 * fails fast with a `StorageError` (`STORAGE_DRIVER_MISSING`) that says so, and the first such failure
 * is logged once as an error. Other errors pass through untouched.
 */
export function guardPglite(pglite: PGlite, logger: Logger): PGlite {
  let reported = false;
  const unavailable = (cause: unknown): StorageError => {
    if (!reported) {
      reported = true;
      logger.error('PGlite instance is no longer usable; every storage call will fail', {
        error: (cause as { message?: string } | null)?.message ?? String(cause),
      });
    }
    return new StorageError(
      'STORAGE_DRIVER_MISSING',
      'The PGlite instance behind this storage is closed or has aborted; open the storage again (the data directory is kept).',
      { cause },
    );
  };
  const query: PGlite['query'] = async (...args) => {
    if (pglite.closed) throw unavailable(new Error('PGlite is closed'));
    try {
      return await pglite.query(...args);
    } catch (error) {
      throw isFatalPgliteError(pglite, error) ? unavailable(error) : error;
    }
  };
  return new Proxy(pglite, {
    get(target, property) {
      if (property === 'query') return query;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

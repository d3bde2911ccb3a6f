import { FlowOrchError, StorageError } from '../../errors.js';

/**
 * Every code a backend's `StorageError` may carry. Backends map their driver's failures onto
 * these, so callers branch on one set of codes whichever database sits underneath.
 */
export const StorageErrorCodes = Object.freeze({
  /** Anything the backend could not classify; the driver's error is kept as `cause`. */
  STORAGE_FAILURE: 'STORAGE_FAILURE',
  /** A call reached the storage after `close()`. */
  STORAGE_CLOSED: 'STORAGE_CLOSED',
  /** The server refused or dropped the connection, or its host name did not resolve. */
  STORAGE_UNREACHABLE: 'STORAGE_UNREACHABLE',
  /** Opening a connection took longer than the configured limit. */
  STORAGE_CONNECT_TIMEOUT: 'STORAGE_CONNECT_TIMEOUT',
  /** The server rejected the credentials. */
  STORAGE_AUTH_FAILED: 'STORAGE_AUTH_FAILED',
  /** The database named in the connection settings does not exist. */
  STORAGE_NO_DATABASE: 'STORAGE_NO_DATABASE',
  /** An optional driver the backend needs is not installed. */
  STORAGE_DRIVER_MISSING: 'STORAGE_DRIVER_MISSING',
  /** The schema was written by a newer release than this one; upgrade the package. */
  SCHEMA_TOO_NEW: 'SCHEMA_TOO_NEW',
  /** A migration step failed; nothing of that step was kept. */
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  /** The migration lacks a privilege it needs (e.g. to create the schema). */
  MIGRATION_PRIVILEGES: 'MIGRATION_PRIVILEGES',
} as const);

/** One of {@link StorageErrorCodes}. */
export type StorageErrorCode = (typeof StorageErrorCodes)[keyof typeof StorageErrorCodes];

/**
 * Maps an error thrown by a backend's driver to a library error (a `StorageError` with a registry
 * code, or a domain error such as `InvalidArgumentError`). Returns `undefined` for errors it does
 * not recognise; those become `STORAGE_FAILURE`.
 */
export type StorageErrorTranslator = (error: unknown, operation: string) => Error | undefined;

/**
 * The error a guarded call rejects with: library errors pass through unchanged, the backend's
 * translator gets the rest, and whatever it leaves becomes `STORAGE_FAILURE` keeping the original
 * as `cause`.
 */
export function translateStorageError(
  error: unknown,
  operation: string,
  backend: string,
  translate?: StorageErrorTranslator,
): unknown {
  if (error instanceof FlowOrchError) return error;
  // Aborts are the caller's own doing; they keep their identity so `signal` users can tell.
  if ((error as { name?: unknown } | null)?.name === 'AbortError') return error;
  const translated = translate?.(error, operation);
  if (translated) return translated;
  const message = error instanceof Error ? error.message : String(error);
  return new StorageError(StorageErrorCodes.STORAGE_FAILURE, `${backend} ${operation} failed: ${message}`, {
    cause: error,
  });
}

/** The error every call after `close()` rejects with. */
export function storageClosedError(backend: string, operation: string): StorageError {
  return new StorageError(
    StorageErrorCodes.STORAGE_CLOSED,
    `${operation} was called after storage '${backend}' was closed; create a new storage to keep working.`,
  );
}

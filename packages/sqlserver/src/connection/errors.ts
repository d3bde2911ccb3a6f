import { InvalidArgumentError, StorageError } from '@floworch/core';
import { type FlowOrchError, StorageErrorCodes } from '@floworch/core/backend';
import { sqlErrorNumbers } from '../sql/errors.js';

/** Server errors caused by a value the caller handed in (too long, not convertible, out of range). */
const BAD_INPUT_ERRORS: ReadonlySet<number> = new Set([
  245, // conversion failed
  2628, // string or binary data would be truncated (naming the column)
  8114, // error converting data type
  8115, // arithmetic overflow
  8152, // string or binary data would be truncated
]);

/** tedious connection-level codes that mean the server cannot be reached (any more). */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ESOCKET', 'ECONNCLOSED', 'ECONNRESET', 'ENOTFOUND']);

/**
 * Maps errors from tedious (through kysely) to library errors: bad input becomes an
 * `InvalidArgumentError`, lost connections and rejected logins become `StorageError`s with the
 * shared codes. Anything else is left to the guard, which reports `STORAGE_FAILURE`.
 */
export function translateSqlServerError(error: unknown, operation: string): FlowOrchError | undefined {
  const message = (error as Error | null)?.message ?? String(error);
  if (sqlErrorNumbers(error).some((n) => BAD_INPUT_ERRORS.has(n))) {
    return new InvalidArgumentError(operation, message);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (UNREACHABLE_CODES.has(code)) {
    return new StorageError(
      StorageErrorCodes.STORAGE_UNREACHABLE,
      `SQL Server ${operation} failed: ${message}`,
      {
        cause: error,
      },
    );
  }
  if (code === 'ELOGIN') {
    return new StorageError(
      StorageErrorCodes.STORAGE_AUTH_FAILED,
      `SQL Server ${operation} failed: ${message}`,
      {
        cause: error,
      },
    );
  }
  return undefined;
}

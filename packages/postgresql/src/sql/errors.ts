import { FlowOrchError, InvalidArgumentError, StorageError } from '@floworch/core';

/** The SQLSTATE of a pg / PGlite error, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Translates driver errors caused by bad input into errors naming the problem; everything else
 * is wrapped in a `StorageError` that keeps the original as `cause`. Nothing is written when a
 * statement fails, so stored data is never half-updated by bad input.
 */
export function translatePgError(error: unknown, operation: string): Error {
  if (error instanceof FlowOrchError) return error;
  const state = sqlState(error);
  const message = (error as Error | null)?.message ?? String(error);
  switch (state) {
    case '22P02': // invalid_text_representation, e.g. a run id that is not a UUID
      return new InvalidArgumentError(operation, message);
    case '22001': // string_data_right_truncation
      return new InvalidArgumentError(operation, `a value is longer than its column allows (${message})`);
    case '54001': // statement_too_complex
    case '22021': // character_not_in_repertoire, e.g. a NUL byte in text
      return new InvalidArgumentError(operation, message);
    default:
      return new StorageError('STORAGE_FAILURE', `PostgreSQL ${operation} failed: ${message}`, {
        cause: error,
      });
  }
}

/** Runs `work`, translating any error with {@link translatePgError}. */
export async function guard<T>(operation: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw translatePgError(error, operation);
  }
}

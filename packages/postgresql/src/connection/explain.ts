import { StorageError } from '@floworch/core';
import { sqlState } from '../sql/errors.js';

/** pg's messages for a connect that ran out of time (client timeout, pool timeout). */
const CONNECT_TIMEOUT_MESSAGES = [
  'timeout expired',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
];

/**
 * Turns a failure to connect or migrate into a message that says what to do. Returns `null` for
 * errors that are not about connectivity, credentials or privileges. `connectTimeoutMs` is named
 * in the message of a connect that timed out.
 */
export function explainConnectionError(
  error: unknown,
  where: string,
  connectTimeoutMs?: number,
): StorageError | null {
  // The storage guard reports unclassified driver errors as STORAGE_FAILURE; explain the original.
  if (error instanceof StorageError && error.code === 'STORAGE_FAILURE' && error.cause !== undefined) {
    return explainConnectionError(error.cause, where, connectTimeoutMs);
  }
  const e = error as { code?: string; message?: string; errors?: unknown[] } | null;
  const code = e?.code;
  const message = e?.message ?? String(error);
  if (CONNECT_TIMEOUT_MESSAGES.some((m) => message.includes(m))) {
    const within = connectTimeoutMs ? ` within ${connectTimeoutMs} ms` : ' in time';
    return new StorageError(
      'STORAGE_CONNECT_TIMEOUT',
      `Could not connect to PostgreSQL at ${where}${within}: the server accepted no session (${message}). Is it PostgreSQL, is it overloaded, and are the host and port right? Raise connectTimeoutMs for slow networks.`,
      { cause: error },
    );
  }
  const nested = Array.isArray(e?.errors) ? (e.errors[0] as { code?: string } | undefined)?.code : undefined;
  if (code === 'ECONNREFUSED' || nested === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT') {
    return new StorageError(
      'STORAGE_UNREACHABLE',
      `Cannot reach PostgreSQL at ${where} (${code ?? nested}). Is the server running and the host/port in the connection string right?`,
      { cause: error },
    );
  }
  switch (sqlState(error)) {
    case '28P01':
    case '28000':
      return new StorageError(
        'STORAGE_AUTH_FAILED',
        `PostgreSQL at ${where} rejected the credentials (${message}). Check the user and password in the connection string.`,
        { cause: error },
      );
    case '3D000':
      return new StorageError(
        'STORAGE_NO_DATABASE',
        `The database named in the connection string does not exist at ${where} (${message}). Create it first.`,
        { cause: error },
      );
    case '42501':
      return new StorageError(
        'MIGRATION_PRIVILEGES',
        `The PostgreSQL role may not create the floworch schema or tables (${message}). Grant CREATE on the database/schema, or run migratePostgres() once with a privileged role and start the app with { migrate: false }.`,
        { cause: error },
      );
    default:
      return null;
  }
}

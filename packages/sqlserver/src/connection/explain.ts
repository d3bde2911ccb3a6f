import { StorageError } from '@floworch/core';
import type { SqlServerConnectionOptions } from './connection-string.js';

/** `host:port` (or `host\instance`) of the settings, for messages. */
export function describeServer(settings: SqlServerConnectionOptions): string {
  if (settings.instanceName) return `${settings.server}\\${settings.instanceName}`;
  return `${settings.server}:${settings.port ?? 1433}`;
}

/**
 * Explains a failure to open a connection: a connect that ran out of time (tedious `ETIMEOUT`, or
 * tarn's create/acquire timeout) or a server that cannot be reached (`ESOCKET`). Returns `null`
 * for every other error.
 */
export function explainSqlServerConnectError(
  error: unknown,
  settings: SqlServerConnectionOptions,
): StorageError | null {
  const e = error as { code?: string; name?: string; message?: string } | null;
  const message = e?.message ?? String(error);
  const where = describeServer(settings);
  if (e?.code === 'ETIMEOUT' || e?.name === 'TimeoutError') {
    return new StorageError(
      'STORAGE_CONNECT_TIMEOUT',
      `Could not connect to SQL Server at ${where} within ${settings.connectTimeoutMs} ms (${message}). Is it SQL Server, is it overloaded, and are the host and port right? Raise connectTimeoutMs (or Connect Timeout) for slow networks.`,
      { cause: error },
    );
  }
  if (e?.code === 'ESOCKET') {
    return new StorageError(
      'STORAGE_UNREACHABLE',
      `Cannot reach SQL Server at ${where} (${message}). Is the server running and the host/port in the connection string right?`,
      { cause: error },
    );
  }
  return null;
}

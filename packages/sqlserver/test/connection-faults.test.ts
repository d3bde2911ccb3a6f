import { InvalidArgumentError } from '@floworch/core';
import { failOnProcessFaults, type LoggedLine, recordingLogger, startSilentServer } from '@floworch/testkit';
import { describe, expect, it } from 'vitest';
import { parseConnectionString } from '../src/connection/connection-string.js';
import {
  createSqlServerDialect,
  tarnOptions,
  tediousForKysely,
  toTediousConfig,
} from '../src/connection/dialect.js';
import { connectionSettings, createSqlServerStorage } from '../src/storage.js';

failOnProcessFaults();

describe('SQL Server connect timeout (silent TCP server on 127.0.0.1)', () => {
  it('opening fails within connectTimeoutMs with an error naming host and port', async () => {
    const silent = await startSilentServer();
    try {
      const began = Date.now();
      const opening = createSqlServerStorage({
        connectionString: `Server=127.0.0.1,${silent.port};User Id=sa;Password=x;Encrypt=false`,
        connectTimeoutMs: 500,
        logger: recordingLogger([]),
      });
      await expect(opening).rejects.toMatchObject({
        code: 'STORAGE_CONNECT_TIMEOUT',
        message: expect.stringContaining(`127.0.0.1:${silent.port} within 500 ms`),
      });
      expect(Date.now() - began).toBeLessThan(3_000);
    } finally {
      await silent.close();
    }
  });
});

describe('SQL Server timeouts and connection errors', () => {
  const url =
    'Server=127.0.0.1,1433;User Id=sa;Password=x;Encrypt=false;Connect Timeout=20;Command Timeout=40';

  it('explicit options override the connection string; the string overrides the defaults', () => {
    expect(connectionSettings(url)).toMatchObject({ connectTimeoutMs: 20_000, requestTimeoutMs: 40_000 });
    expect(connectionSettings(url, { connectTimeoutMs: 1_500, statementTimeoutMs: 0 })).toMatchObject({
      connectTimeoutMs: 1_500,
      requestTimeoutMs: 0,
    });
    const plain = connectionSettings('Server=h;User Id=u;Password=p');
    expect(plain).toMatchObject({ connectTimeoutMs: 15_000, requestTimeoutMs: 30_000 });
    expect(toTediousConfig(connectionSettings(url, { statementTimeoutMs: 250 })).options).toMatchObject({
      connectTimeout: 20_000,
      requestTimeout: 250,
    });
  });

  it('refuses timeouts that are not a number of milliseconds', () => {
    expect(() => connectionSettings(url, { connectTimeoutMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => connectionSettings(url, { statementTimeoutMs: -1 })).toThrow(InvalidArgumentError);
    expect(() => connectionSettings(url, { connectTimeoutMs: Number.NaN })).toThrow(InvalidArgumentError);
  });

  it('gives tarn the acquire timeout and makes it report connect errors', () => {
    expect(tarnOptions(parseConnectionString(url), { acquireTimeoutMs: 1_234 })).toMatchObject({
      acquireTimeoutMillis: 1_234,
      createTimeoutMillis: 25_000,
      propagateCreateError: true,
    });
    expect(tarnOptions(parseConnectionString(url)).acquireTimeoutMillis).toBe(30_000);
    // The storage option reaches the pool through openKysely.
    expect(() => createSqlServerDialect(parseConnectionString(url), { acquireTimeoutMs: 1 })).not.toThrow();
  });

  it("a dropped connection's 'error' event is logged, never fatal", () => {
    const lines: LoggedLine[] = [];
    const tedious = tediousForKysely(toTediousConfig(parseConnectionString(url)), recordingLogger(lines));
    const connection = tedious.connectionFactory();
    expect(connection.listenerCount('error')).toBe(1);
    expect(() =>
      connection.emit(
        'error',
        Object.assign(new Error('Connection lost - read ECONNRESET'), { code: 'ESOCKET' }),
      ),
    ).not.toThrow();
    expect(lines).toEqual([
      {
        level: 'warn',
        message: 'SQL Server connection dropped; the pool replaces it',
        fields: { target: '127.0.0.1:1433', error: 'Connection lost - read ECONNRESET', code: 'ESOCKET' },
      },
    ]);
  });
});

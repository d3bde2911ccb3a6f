import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from '@floworch/core';
import { failOnProcessFaults, type LoggedLine, recordingLogger, startSilentServer } from '@floworch/testkit';
import { sql } from 'kysely';
import type pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createPostgresStorage, type PostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

describe('PostgreSQL connect timeout (silent TCP server on 127.0.0.1)', () => {
  failOnProcessFaults();

  it('opening fails within connectTimeoutMs with an error naming host and port', async () => {
    const silent = await startSilentServer();
    try {
      const began = Date.now();
      const opening = createPostgresStorage({
        connectionString: `postgres://postgres@127.0.0.1:${silent.port}/postgres`,
        connectTimeoutMs: 500,
        logger: recordingLogger([]),
      });
      await expect(opening).rejects.toMatchObject({
        code: 'STORAGE_CONNECT_TIMEOUT',
        message: expect.stringContaining(`127.0.0.1:${silent.port}`),
      });
      await expect(opening).rejects.toThrow(/within 500 ms/);
      expect(Date.now() - began).toBeLessThan(3_000);
    } finally {
      await silent.close();
    }
  });

  it('refuses a negative or non-numeric timeout', async () => {
    await expect(
      createPostgresStorage({ connectionString: 'postgres://127.0.0.1:1/x', connectTimeoutMs: -1 }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      createPostgresStorage({ connectionString: 'postgres://127.0.0.1:1/x', statementTimeoutMs: Number.NaN }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

const suite = pgUrl ? describe : describe.skip;

suite(`PostgreSQL connection faults (${pgSource})`, () => {
  failOnProcessFaults();
  const admin = pgUrl ? adminPool() : (undefined as unknown as pg.Pool);
  const schemas: string[] = [];
  const open: PostgresStorage[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(async () => {
    for (const s of schemas) await dropSchema(admin, s);
    await admin.end();
  });

  /** A storage in its own schema whose connections carry a unique application_name. */
  async function openStorage(extra: Parameters<typeof createPostgresStorage>[0] = {}) {
    const id = randomBytes(5).toString('hex');
    const schema = `floworch_cf_${id}`;
    schemas.push(schema);
    const applicationName = `floworch_test_${id}`;
    const lines: LoggedLine[] = [];
    const storage = await createPostgresStorage({
      connectionString: pgUrl,
      schema,
      applicationName,
      logger: recordingLogger(lines),
      ...extra,
    });
    open.push(storage);
    return { storage, applicationName, lines };
  }

  /** Terminates every backend of this test's application_name only; returns how many. */
  async function terminateOwn(applicationName: string): Promise<number> {
    const result = await admin.query(
      `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
        WHERE application_name = $1 AND pid <> pg_backend_pid()`,
      [applicationName],
    );
    return result.rows.filter((r) => r.ok).length;
  }

  it('survives pg_terminate_backend of every connection, idle or busy, and the next query succeeds', async () => {
    const { storage, applicationName, lines } = await openStorage();
    // Several idle connections in the pool, and one busy in a long statement.
    await Promise.all(Array.from({ length: 4 }, () => sql`SELECT pg_sleep(0.05)`.execute(storage.db)));
    const busy = sql`SELECT pg_sleep(5)`.execute(storage.db);
    const busySettled = busy.then(
      () => 'resolved',
      (error: { code?: string }) => error.code ?? 'rejected',
    );
    await new Promise((r) => setTimeout(r, 100));

    expect(await terminateOwn(applicationName)).toBeGreaterThanOrEqual(2);
    expect(await busySettled).toBe('57P01'); // admin_shutdown: the caller sees the drop
    await new Promise((r) => setTimeout(r, 100)); // let idle drops be reported

    await storage.ping();
    expect(await storage.flows.getAll()).toEqual([]);
    const warnings = lines.filter((l) => l.level === 'warn' && l.message.includes('connection dropped'));
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings[0]?.fields).toMatchObject({ target: expect.stringContaining('127.0.0.1') });

    // A second round on the replacement connections behaves the same.
    expect(await terminateOwn(applicationName)).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 100));
    await storage.ping();
  });

  it('applies statementTimeoutMs on the server (57014, query_canceled)', async () => {
    const { storage } = await openStorage({ statementTimeoutMs: 200 });
    const began = Date.now();
    await expect(sql`SELECT pg_sleep(3)`.execute(storage.db)).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - began).toBeLessThan(2_000);
    await storage.ping(); // the connection stays usable
  });

  it('gives up waiting for a pooled connection after acquireTimeoutMs', async () => {
    const { storage } = await openStorage({ maxConnections: 1, acquireTimeoutMs: 300 });
    const holding = sql`SELECT pg_sleep(1.5)`.execute(storage.db);
    await new Promise((r) => setTimeout(r, 50));
    const began = Date.now();
    await expect(storage.ping()).rejects.toThrow(/timeout/);
    expect(Date.now() - began).toBeLessThan(1_200);
    await holding;
    await storage.ping();
  });

  it('names its connections with applicationName (default floworch)', async () => {
    const { storage, applicationName } = await openStorage();
    const { rows } = await sql<{ name: string }>`SELECT current_setting('application_name') AS name`.execute(
      storage.db,
    );
    expect(rows[0]?.name).toBe(applicationName);
    const plain = await createPostgresStorage({ connectionString: pgUrl, migrate: false });
    open.push(plain);
    const named = await sql<{ name: string }>`SELECT current_setting('application_name') AS name`.execute(
      plain.db,
    );
    expect(named.rows[0]?.name).toBe('floworch');
  });
});

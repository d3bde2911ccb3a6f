import { randomBytes, randomUUID } from 'node:crypto';
import { SchemaTooNewError, StorageError } from '@floworch/core';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostgresStorage, migratePostgres, SCHEMA_VERSION } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

const suite = pgUrl ? describe : describe.skip;

suite(`postgresql migrator (${pgSource})`, () => {
  const admin = pgUrl ? adminPool() : (undefined as unknown as pg.Pool);
  const schemas: string[] = [];
  let schema = '';
  afterAll(async () => {
    for (const s of schemas) await dropSchema(admin, s);
    await admin.end();
  });
  beforeEach(() => {
    schema = `floworch_m_${randomBytes(5).toString('hex')}`;
    schemas.push(schema);
  });

  /** A kysely instance with its own pool (an independent "replica"). */
  function replica(): Kysely<unknown> {
    return new Kysely<unknown>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: pgUrl, max: 2 }) }),
    });
  }

  it('creates every table, and a second run changes nothing', async () => {
    const db = replica();
    try {
      expect(await migratePostgres(db, { schema })).toEqual({ from: 0, to: SCHEMA_VERSION, applied: true });
      expect(await migratePostgres(db, { schema })).toEqual({
        from: SCHEMA_VERSION,
        to: SCHEMA_VERSION,
        applied: false,
      });
      const tables = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual([
        'flow_definitions',
        'flow_events',
        'flow_idempotency_keys',
        'flow_outputs',
        'flow_run_controls',
        'flow_runs',
        'flow_schedule_states',
        'flow_signal_waiters',
        'flow_step_attempts',
        'flow_step_claims',
        'flow_step_dispatches',
        'flow_steps',
        'floworch_schema_version',
        'webhook_rejections',
        'webhook_replay_nonces',
      ]);
    } finally {
      await db.destroy();
    }
  });

  it('five migrators racing on an empty database: all succeed, one applies', async () => {
    const dbs = Array.from({ length: 5 }, () => replica());
    try {
      const results = await Promise.all(dbs.map((db) => migratePostgres(db, { schema })));
      expect(results.filter((r) => r.applied)).toHaveLength(1);
      const versions = await admin.query(`SELECT version FROM "${schema}".floworch_schema_version`);
      expect(versions.rows).toEqual([{ version: SCHEMA_VERSION }]);
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
    }
  });

  it('upgrades a reference 1.26 schema holding rows without losing them', async () => {
    const runId = randomUUID();
    const flowId = randomUUID();
    // The 1.26 shape: no lease/owner columns, no trace, no attempt counter, no control created_at.
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`SET search_path TO "${schema}"`);
    await admin.query(`
      CREATE TABLE "${schema}".flow_runs (id UUID PRIMARY KEY, flow_id UUID NOT NULL, flow_name VARCHAR(256),
        status VARCHAR(64) NOT NULL, trigger_key VARCHAR(256), trigger_data_json TEXT, background_job_id VARCHAR(128),
        started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), completed_at TIMESTAMPTZ, source_run_id UUID);
      CREATE TABLE "${schema}".flow_steps (run_id UUID NOT NULL, step_key VARCHAR(256) NOT NULL, step_type VARCHAR(256) NOT NULL,
        status VARCHAR(64) NOT NULL, input_json TEXT, output_json TEXT, error_message TEXT, job_id VARCHAR(128),
        started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), completed_at TIMESTAMPTZ, PRIMARY KEY (run_id, step_key));
      CREATE TABLE "${schema}".flow_step_attempts (run_id UUID NOT NULL, step_key VARCHAR(256) NOT NULL, attempt_no INT NOT NULL,
        step_type VARCHAR(256) NOT NULL, status VARCHAR(64) NOT NULL, input_json TEXT, output_json TEXT, error_message TEXT,
        job_id VARCHAR(128), started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), completed_at TIMESTAMPTZ,
        PRIMARY KEY (run_id, step_key, attempt_no));
      CREATE TABLE "${schema}".flow_step_claims (run_id UUID NOT NULL, step_key VARCHAR(256) NOT NULL,
        claimed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), PRIMARY KEY (run_id, step_key));
      CREATE TABLE "${schema}".flow_run_controls (run_id UUID PRIMARY KEY,
        flow_id UUID NOT NULL DEFAULT '00000000-0000-0000-0000-000000000000', trigger_key VARCHAR(256) NOT NULL DEFAULT '',
        idempotency_key VARCHAR(256), timeout_at_utc TIMESTAMPTZ, cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
        cancel_reason TEXT, cancel_requested_at_utc TIMESTAMPTZ, timed_out_at_utc TIMESTAMPTZ);
      CREATE TABLE "${schema}".flow_signal_waiters (run_id UUID NOT NULL, step_key VARCHAR(256) NOT NULL,
        signal_name VARCHAR(256) NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), expires_at TIMESTAMPTZ,
        delivered_at TIMESTAMPTZ, payload_json TEXT, PRIMARY KEY (run_id, step_key));
      INSERT INTO "${schema}".flow_runs (id, flow_id, flow_name, status, trigger_key) VALUES ('${runId}', '${flowId}', 'Legacy', 'Running', 'manual');
      INSERT INTO "${schema}".flow_steps (run_id, step_key, step_type, status) VALUES ('${runId}', 'fetch', 'Http', 'Failed');
      INSERT INTO "${schema}".flow_step_attempts (run_id, step_key, attempt_no, step_type, status)
        VALUES ('${runId}', 'fetch', 1, 'Http', 'Failed'), ('${runId}', 'fetch', 2, 'Http', 'Failed');
      INSERT INTO "${schema}".flow_step_claims (run_id, step_key) VALUES ('${runId}', 'fetch');
      INSERT INTO "${schema}".flow_run_controls (run_id, cancel_requested) VALUES ('${runId}', TRUE);
      INSERT INTO "${schema}".flow_signal_waiters (run_id, step_key, signal_name) VALUES ('${runId}', 'wait', 'go');
    `);
    const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
    try {
      const detail = await storage.runs.getRunDetail(runId);
      expect(detail).toMatchObject({ flowName: 'Legacy', status: 'Running' });
      expect(detail!.steps![0]!.attempts.map((a) => a.attempt)).toEqual([1, 2]);
      expect(await storage.runtime.getStepClaim(runId, 'fetch')).toMatchObject({
        owner: '',
        leaseExpiresAt: null,
      });
      expect((await storage.control.getRunControl(runId))!.cancelRequested).toBe(true);
      // The attempt counter was backfilled, so the next attempt is #3, not a duplicate #1.
      await storage.runtime.releaseStepClaim(runId, 'fetch');
      expect(await storage.runs.recordStepStart({ runId, stepKey: 'fetch', stepType: 'Http' })).toBe(true);
      const after = await storage.runs.getRunDetail(runId);
      expect(after!.steps![0]!.attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
      expect((await storage.signals.deliverSignal(runId, 'go', '{}')).status).toBe('Delivered');
    } finally {
      await storage.close();
    }
  });

  it('upgrades a version-1 schema to the step queue: unfinished dispatched work becomes queued, finished work does not', async () => {
    const db = replica();
    try {
      await migratePostgres(db, { schema });
      // Shape the schema as version 1 left it: no queue columns, version row 1.
      await admin.query(`DROP INDEX "${schema}".ix_flow_step_dispatches_visible_at`);
      await admin.query(
        `ALTER TABLE "${schema}".flow_step_dispatches DROP COLUMN visible_at, DROP COLUMN attempt`,
      );
      await admin.query(`DELETE FROM "${schema}".floworch_schema_version`);
      await admin.query(
        `INSERT INTO "${schema}".floworch_schema_version (version, description) VALUES (1, 'v1')`,
      );
      const runId = randomUUID();
      const at = new Date(Date.UTC(2031, 0, 1));
      await admin.query(
        `INSERT INTO "${schema}".flow_runs (id, flow_id, status, started_at) VALUES ($1, $2, 'Running', $3)`,
        [runId, randomUUID(), at],
      );
      for (const [key, status] of [
        ['done', 'Succeeded'],
        ['running', 'Running'],
        ['waiting', null],
      ] as const) {
        await admin.query(
          `INSERT INTO "${schema}".flow_step_dispatches (run_id, step_key, dispatched_at) VALUES ($1, $2, $3)`,
          [runId, key, at],
        );
        if (status)
          await admin.query(
            `INSERT INTO "${schema}".flow_steps (run_id, step_key, step_type, status, started_at) VALUES ($1, $2, 'Work', $3, $4)`,
            [runId, key, status, at],
          );
      }
      expect(await migratePostgres(db, { schema })).toEqual({ from: 1, to: SCHEMA_VERSION, applied: true });
      const rows = await admin.query<{ step_key: string; visible_at: Date | null; attempt: number }>(
        `SELECT step_key, visible_at, attempt FROM "${schema}".flow_step_dispatches ORDER BY step_key`,
      );
      expect(rows.rows.map((r) => [r.step_key, r.visible_at?.getTime() ?? null, r.attempt])).toEqual([
        ['done', null, 1],
        ['running', at.getTime(), 1],
        ['waiting', at.getTime(), 1],
      ]);
      const storage = await createPostgresStorage({ kysely: db, schema, clock: { now: () => at } });
      const taken = await storage.queue.take({ owner: 'w', limit: 5, leaseMs: 1_000 });
      expect(taken.map((t) => t.stepKey).sort()).toEqual(['running', 'waiting']);
    } finally {
      await db.destroy();
    }
  });

  it('refuses a schema migrated by a newer package, saying what to do', async () => {
    const db = replica();
    try {
      await migratePostgres(db, { schema });
      await sql`INSERT INTO ${sql.id(schema, 'floworch_schema_version')} (version, description) VALUES (${SCHEMA_VERSION + 1}, 'future')`.execute(
        db,
      );
      const error = await migratePostgres(db, { schema }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaTooNewError);
      expect((error as Error).message).toMatch(/Upgrade the package/);
    } finally {
      await db.destroy();
    }
  });

  it('rejects a schema name that is not a plain identifier', async () => {
    await expect(
      createPostgresStorage({ connectionString: pgUrl, schema: 'x"; DROP TABLE y; --' }),
    ).rejects.toThrow(/schema/);
  });

  it('explains an unreachable server', async () => {
    const error = await createPostgresStorage({
      connectionString: 'postgres://postgres@127.0.0.1:1/postgres',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_UNREACHABLE');
    expect((error as Error).message).toMatch(/127\.0\.0\.1:1/);
  });

  it('explains a database that does not exist', async () => {
    const url = new URL(pgUrl);
    url.pathname = '/floworch_missing_db';
    const error = await createPostgresStorage({ connectionString: url.toString() }).catch((e: unknown) => e);
    expect((error as StorageError).code).toBe('STORAGE_NO_DATABASE');
  });

  it('explains missing privileges to migrate', async () => {
    const role = `floworch_ro_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'pw'`);
    try {
      const url = new URL(pgUrl);
      url.username = role;
      url.password = 'pw';
      const error = await createPostgresStorage({ connectionString: url.toString(), schema }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('MIGRATION_PRIVILEGES');
      expect((error as Error).message).toMatch(/migrate: false/);
    } finally {
      await admin.query(`DROP ROLE ${role}`);
    }
  });

  it('explains rejected credentials when the server checks passwords', async () => {
    const url = new URL(pgUrl);
    url.username = 'floworch_nobody';
    url.password = 'wrong';
    const error = await createPostgresStorage({ connectionString: url.toString() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('STORAGE_AUTH_FAILED');
  });
});

import { randomBytes, randomUUID } from 'node:crypto';
import {
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowOrchestrator,
  silentLogger,
} from '@floworch/core';
import { waitFor } from '@floworch/testkit';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, type PostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

const suite = pgUrl ? describe : describe.skip;

/** Decides, per statement about to be sent, whether it fails (and how). */
type Fault = (sqlText: string) => 'throw' | 'drop' | null;

/**
 * A pg pool whose clients fail chosen statements: `throw` rejects before sending (as a failed
 * statement would), `drop` destroys the socket (as a dropped connection would). Every statement
 * of a transition may be hit, so the test walks the fault over each of them.
 */
class FaultyPool extends pg.Pool {
  fault: Fault = () => null;
  readonly seen: string[] = [];

  // biome-ignore lint/suspicious/noExplicitAny: pg's overloaded connect() signature
  override async connect(): Promise<any> {
    // biome-ignore lint/suspicious/noExplicitAny: as above
    const client = (await (super.connect as any)()) as pg.PoolClient & { __faulty?: boolean };
    if (!client.__faulty) {
      client.__faulty = true;
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
      // biome-ignore lint/suspicious/noExplicitAny: pg's overloaded query() signature
      (client as any).query = (...args: unknown[]) => {
        const text =
          typeof args[0] === 'string' ? args[0] : String((args[0] as { text?: string })?.text ?? '');
        this.seen.push(text);
        const action = this.fault(text);
        if (action === 'throw')
          return Promise.reject(new Error(`injected fault before: ${text.slice(0, 40)}`));
        if (action === 'drop') {
          // biome-ignore lint/suspicious/noExplicitAny: reaching the socket on purpose
          (client as any).connection?.stream?.destroy(new Error('injected connection drop'));
        }
        return query(...args);
      };
    }
    return client;
  }
}

const diamond = (id: string): FlowDefinition => ({
  id,
  name: 'Diamond',
  steps: {
    a: { type: 'Work' },
    b1: { type: 'Work', runAfter: { a: ['Succeeded'] } },
    b2: { type: 'Work', runAfter: { a: ['Succeeded'] } },
    c: { type: 'Work', runAfter: { b1: ['Succeeded'], b2: ['Succeeded'] } },
  },
});

suite(`queue transitions under injected faults on PostgreSQL (${pgSource})`, () => {
  const admin = pgUrl ? adminPool() : (undefined as unknown as pg.Pool);
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await admin.end();
  });

  async function open(): Promise<{ pool: FaultyPool; storage: PostgresStorage; schema: string }> {
    const schema = `floworch_f_${randomBytes(5).toString('hex')}`;
    const pool = new FaultyPool({ connectionString: pgUrl, max: 6 });
    // Dropped connections are the point here: a client's error must not end the test process.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    const storage = await createPostgresStorage({ pool, schema });
    cleanups.push(async () => {
      await storage.close();
      await pool.end();
      await dropSchema(admin, schema);
    });
    return { pool, storage, schema };
  }

  async function engine(storage: PostgresStorage, flow: FlowDefinition, calls: Map<string, number>) {
    const orchestrator: FlowOrchestrator = createFlowOrchestrator({
      storage,
      flows: [flow],
      handlers: {
        Work: ({ runId, stepKey }) => {
          const key = `${runId}/${stepKey}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return stepKey;
        },
      },
      logger: silentLogger,
      leaseMs: 600,
      pollIntervalMs: 50,
      maintenanceIntervalMs: 0,
    });
    await orchestrator.start();
    cleanups.push(() => orchestrator.stop());
    return orchestrator;
  }

  /** Every key has its complete run; every run finished Succeeded exactly once with every step. */
  async function checkConsistent(storage: PostgresStorage, schema: string, flowId: string): Promise<void> {
    const orphans = await admin.query(
      `SELECT k.idempotency_key FROM "${schema}".flow_idempotency_keys k
       LEFT JOIN "${schema}".flow_runs r ON r.id = k.run_id WHERE r.id IS NULL`,
    );
    expect(orphans.rows, 'idempotency keys without their run').toEqual([]);
    const incomplete = await admin.query(
      `SELECT r.id FROM "${schema}".flow_runs r
       WHERE NOT EXISTS (SELECT 1 FROM "${schema}".flow_run_controls c WHERE c.run_id = r.id)
          OR NOT EXISTS (SELECT 1 FROM "${schema}".flow_outputs o WHERE o.run_id = r.id AND o.key = '__trigger:data')`,
    );
    expect(incomplete.rows, 'runs missing their control row or trigger data').toEqual([]);
    await waitFor(
      async () => (await storage.runs.getRunsPage({ flowId, status: 'Running', take: 0 })).totalCount === 0,
      'every run to finish',
      { timeoutMs: 20_000, intervalMs: 20 },
    );
    const runs = (await storage.runs.getRunsPage({ flowId, take: 500 })).runs;
    for (const run of runs) {
      expect(run.status, `run ${run.id}`).toBe('Succeeded');
      const detail = await storage.runs.getRunDetail(run.id);
      expect(detail!.steps!.map((s) => `${s.stepKey}:${s.status}`).sort()).toEqual([
        'a:Succeeded',
        'b1:Succeeded',
        'b2:Succeeded',
        'c:Succeeded',
      ]);
      const closes = await admin.query(
        `SELECT COUNT(*)::int AS n FROM "${schema}".flow_events WHERE run_id = $1 AND type = 'run.completed'`,
        [run.id],
      );
      expect(closes.rows[0].n, `run.completed events of ${run.id}`).toBe(1);
    }
  }

  it('a trigger failing at any of its statements leaves no key without its run; retrying starts it', async () => {
    const { pool, storage, schema } = await open();
    const flow = diamond(randomUUID());
    const calls = new Map<string, number>();
    const orchestrator = await engine(storage, flow, calls);
    for (const mode of ['throw', 'drop'] as const) {
      for (let k = 0; k < 3; k++) {
        const key = `order-${mode}-${k}`;
        let n = 0;
        pool.fault = () => (n++ === k ? mode : null);
        const first = await orchestrator.trigger(flow.id, { idempotencyKey: key }).then(
          (r) => r.runId,
          () => null,
        );
        pool.fault = () => null;
        const again = await orchestrator.trigger(flow.id, { idempotencyKey: key });
        if (first) expect(again).toMatchObject({ runId: first, duplicate: true });
        else expect(again.duplicate).toBe(false);
      }
    }
    await checkConsistent(storage, schema, flow.id);
  });

  it('a completion failing at any statement of its transaction is rolled back and redone: each run closes once, after its join', async () => {
    const { pool, storage, schema } = await open();
    const flow = diamond(randomUUID());
    const calls = new Map<string, number>();
    const orchestrator = await engine(storage, flow, calls);
    // Walk the fault over the statements of completion transactions (lock, read, writes, commit),
    // failing each one often enough that the engine's own retries run out sometimes, so the
    // lease lapses and another take redoes the step.
    const targets = [
      /FOR UPDATE$/,
      /json_agg/,
      /^\s*WITH run AS/,
      /UPDATE .*flow_steps.* SET status/s,
      /^commit/i,
    ];
    const runIds: string[] = [];
    for (const [i, target] of targets.entries()) {
      let hits = 0;
      const mode = i % 2 === 0 ? 'throw' : 'drop';
      pool.fault = (text) => (target.test(text.trim()) && hits++ % 3 !== 2 ? mode : null);
      for (let r = 0; r < 3; r++) runIds.push((await orchestrator.trigger(flow.id)).runId!);
      await waitFor(async () => hits >= 4, `faults on ${target}`, { timeoutMs: 10_000, intervalMs: 20 });
      pool.fault = () => null;
    }
    await checkConsistent(storage, schema, flow.id);
    expect(runIds).toHaveLength(targets.length * 3);
    // Re-execution happens only where an attempt's outcome was lost; never for a committed step.
    for (const runId of runIds) expect(calls.get(`${runId}/c`)).toBeGreaterThanOrEqual(1);
  });
});

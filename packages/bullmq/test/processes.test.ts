import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFlowClient, silentLogger } from '@floworch/core';
import { createPostgresStorage } from '@floworch/postgresql';
import { waitFor } from '@floworch/testkit';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createBullMQRuntime } from '../src/index.js';
import { FAN_STEPS, fanFlow } from './flows.js';
import {
  deletePrefix,
  flushDb,
  pgUrl,
  redisUrl,
  redisUrlWithDb,
  requirement,
  uniquePrefix,
} from './support.js';

const req = requirement(true);
const RUNS = 300;
// Long enough that a loaded CI box (every test project runs at once) never lets a live worker's
// lease lapse — which would make another worker execute its step too — yet short for recovery.
const LEASE_MS = 5_000;
/** Budget for the runs to finish (a loaded CI box is several times slower than a quiet one). */
const FINISH_BUDGET_MS = 240_000;
const STEP_MS = 40;

/** One scenario: a schema, a key prefix, three worker processes and a client that triggers. */
async function scenario(
  redis: string,
  during: (ctx: {
    workers: ChildProcess[];
    executions: () => Array<[string, string, string]>;
    finished: () => Promise<number>;
  }) => Promise<void>,
): Promise<{
  executions: Array<[string, string, string]>;
  runIds: string[];
  statuses: Record<string, number>;
  phases: string;
}> {
  const t0 = Date.now();
  const phases: string[] = [];
  const mark = (what: string) => phases.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const schema = `fo_bullmq_${randomBytes(4).toString('hex')}`;
  const prefix = uniquePrefix();
  const flowId = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'floworch-bullmq-'));
  const admin = new pg.Pool({ connectionString: pgUrl, max: 2 });
  // The parent migrates the schema first, then triggers through a client on the same delivery.
  const storage = await createPostgresStorage({ connectionString: pgUrl, schema, maxConnections: 6 });
  const bull = createBullMQRuntime({
    storage,
    connection: redis,
    prefix,
    logger: silentLogger,
    sweepIntervalMs: 0,
  });
  const client = createFlowClient({ storage: bull.storage, flows: [fanFlow(flowId)], logger: silentLogger });
  const workers: ChildProcess[] = [];
  const logs = [0, 1, 2].map((i) => join(dir, `w${i}.log`));
  const executions = (): Array<[string, string, string]> =>
    logs.flatMap((file) => {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split(' ') as [string, string, string]);
    });
  const finished = async () => {
    const result = await admin.query(
      `SELECT COUNT(*)::int AS n FROM "${schema}".flow_runs WHERE status <> 'Running'`,
    );
    return result.rows[0].n as number;
  };
  try {
    for (let i = 0; i < 3; i++) {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--conditions=@floworch/source',
          fileURLToPath(new URL('./worker-process.ts', import.meta.url)),
        ],
        {
          env: {
            ...process.env,
            WORKER: `w${i}`,
            LOG_FILE: logs[i],
            STEP_MS: String(STEP_MS),
            PG_URL: pgUrl,
            PG_SCHEMA: schema,
            REDIS_URL: redis,
            PREFIX: prefix,
            FLOW_ID: flowId,
            LEASE_MS: String(LEASE_MS),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      workers.push(child);
    }
    await Promise.all(
      workers.map(
        (child, i) =>
          new Promise<void>((resolve, reject) => {
            let out = '';
            child.stdout!.on('data', (chunk: Buffer) => {
              out += chunk.toString();
              if (out.includes('READY')) resolve();
            });
            child.once('exit', (code) =>
              reject(new Error(`worker w${i} exited before it was ready (${code})`)),
            );
          }),
      ),
    );
    mark('workers ready');
    const runIds: string[] = [];
    for (let i = 0; i < RUNS; i += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, RUNS - i) }, async () => (await client.trigger(flowId)).runId!),
      );
      runIds.push(...batch);
    }
    mark('triggered');
    await during({ workers, executions, finished });
    mark('disrupted');
    await waitFor(async () => (await finished()) === RUNS, `${RUNS} finished runs`, {
      timeoutMs: FINISH_BUDGET_MS,
      intervalMs: 50,
    });
    mark('all finished');
    const statuses = await admin.query(
      `SELECT status, COUNT(*)::int AS n FROM "${schema}".flow_runs GROUP BY status`,
    );
    return {
      executions: executions(),
      runIds,
      statuses: Object.fromEntries(statuses.rows.map((r) => [r.status, r.n])),
      phases: phases.join(', '),
    };
  } finally {
    for (const child of workers)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(
      workers.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => {
              child.kill('SIGKILL');
              resolve();
            }, 10_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    await bull.close();
    await storage.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
    await deletePrefix(redis, prefix);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Executions per `<runId>/<stepKey>`, by worker. */
function byStep(executions: Array<[string, string, string]>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const [runId, stepKey, worker] of executions) {
    const key = `${runId}/${stepKey}`;
    map.set(key, [...(map.get(key) ?? []), worker]);
  }
  return map;
}

describe.skipIf(req.skip)(`@floworch/bullmq: three worker processes on PostgreSQL (${req.label})`, () => {
  it(`${RUNS} fan-out/fan-in runs, one worker SIGKILLed mid-step: every run finishes, each step executed once except where its worker died`, {
    timeout: 360_000,
  }, async () => {
    const started = Date.now();
    let killedAt = 0;
    const result = await scenario(redisUrl, async ({ workers, executions }) => {
      // Kill w0 once it has started a good share of the steps (handlers take STEP_MS, so some
      // of its steps are mid-handler).
      await waitFor(
        () => executions().filter(([, , w]) => w === 'w0').length >= 120,
        'w0 to start 120 steps',
        { timeoutMs: FINISH_BUDGET_MS, intervalMs: 50 },
      );
      workers[0]!.kill('SIGKILL');
      killedAt = executions().length;
    });
    expect(result.statuses).toEqual({ Succeeded: RUNS });
    const steps = byStep(result.executions);
    let redone = 0;
    for (const runId of result.runIds) {
      for (const stepKey of FAN_STEPS) {
        const by = steps.get(`${runId}/${stepKey}`) ?? [];
        expect(by.length, `${runId}/${stepKey}`).toBeGreaterThanOrEqual(1);
        if (by.length > 1) {
          // Only the killed worker's attempts may repeat, and the last one was a survivor's.
          redone++;
          expect(
            by.slice(0, -1).every((w) => w === 'w0'),
            `${runId}/${stepKey}: ${by.join(',')}`,
          ).toBe(true);
          expect(by.at(-1), `${runId}/${stepKey}`).not.toBe('w0');
        }
      }
    }
    expect(steps.size).toBe(RUNS * FAN_STEPS.length);
    // w0 died mid-step: at least one of its steps ran again on a survivor.
    expect(redone).toBeGreaterThan(0);
    expect(killedAt).toBeGreaterThan(0);
    console.info(
      `bullmq kill scenario: ${result.executions.length} executions for ${RUNS * FAN_STEPS.length} steps, ${redone} re-executed after the kill, ${Date.now() - started} ms (${result.phases})`,
    );
  });

  it(`${RUNS} fan-out/fan-in runs, FLUSHDB of the dedicated Redis database mid-run: maintenance re-dispatches, every run finishes, each step executed once`, {
    timeout: 360_000,
  }, async () => {
    const started = Date.now();
    const url = redisUrlWithDb(flushDb);
    const result = await scenario(url, async ({ executions }) => {
      await waitFor(() => executions().length >= 600, '600 steps started', {
        timeoutMs: FINISH_BUDGET_MS,
        intervalMs: 50,
      });
      const redis = new Redis(url);
      try {
        // Only this test's own database (FLOWORCH_TEST_REDIS_FLUSH_DB), never FLUSHALL.
        expect((redis.options.db ?? 0) === flushDb).toBe(true);
        await redis.flushdb();
      } finally {
        redis.disconnect();
      }
    });
    expect(result.statuses).toEqual({ Succeeded: RUNS });
    const steps = byStep(result.executions);
    expect(steps.size).toBe(RUNS * FAN_STEPS.length);
    const repeated = [...steps].filter(([, by]) => by.length !== 1);
    expect(repeated).toEqual([]);
    console.info(
      `bullmq flush scenario: ${result.executions.length} executions, ${Date.now() - started} ms (${result.phases})`,
    );
  });
});

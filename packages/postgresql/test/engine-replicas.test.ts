import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowOrchestrator,
  silentLogger,
} from '@floworch/core';
import { waitFor } from '@floworch/testkit';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage, type PostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

const suite = pgUrl ? describe : describe.skip;

/** 1 → 5 parallel → 1. */
function fanFlow(id: string): FlowDefinition {
  const branches = Array.from({ length: 5 }, (_, i) => `b${i}`);
  return {
    id,
    name: 'FanOutFanIn',
    steps: {
      start: { type: 'Work' },
      ...Object.fromEntries(branches.map((b) => [b, { type: 'Work', runAfter: { start: ['Succeeded'] } }])),
      join: { type: 'Work', runAfter: Object.fromEntries(branches.map((b) => [b, ['Succeeded']])) },
    },
  };
}

suite(`engine on PostgreSQL: replicas and crashes (${pgSource})`, () => {
  const admin = pgUrl ? adminPool() : (undefined as unknown as pg.Pool);
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await dropSchema(admin, s);
    await admin.end();
  });
  const newSchema = () => {
    const s = `floworch_e_${randomBytes(5).toString('hex')}`;
    schemas.push(s);
    return s;
  };

  it('3 orchestrators on one database, 200 fan-out/fan-in runs: every handler once per run, every run completes once', async () => {
    const schema = newSchema();
    const flow = fanFlow(randomUUID());
    const executions = new Map<string, number>();
    const completions = new Map<string, number>();
    const stores: PostgresStorage[] = [];
    const replicas: FlowOrchestrator[] = [];
    for (let i = 0; i < 3; i++) {
      const storage = await createPostgresStorage({ connectionString: pgUrl, schema, maxConnections: 8 });
      stores.push(storage);
      const orchestrator = createFlowOrchestrator({
        storage,
        flows: [flow],
        concurrency: 8,
        logger: silentLogger,
        maintenanceIntervalMs: 500,
        instanceId: `replica-${i}`,
        handlers: {
          Work: ({ runId, stepKey }) => {
            const key = `${runId}/${stepKey}`;
            executions.set(key, (executions.get(key) ?? 0) + 1);
            return { by: i };
          },
        },
      });
      orchestrator.subscribe((e) => {
        if (e.type === 'run.completed') completions.set(e.runId, (completions.get(e.runId) ?? 0) + 1);
      });
      replicas.push(orchestrator);
    }
    try {
      for (const r of replicas) await r.start();
      const runIds = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => (await replicas[i % 3]!.trigger(flow.id)).runId!),
      );
      await waitFor(async () => completions.size === 200, '200 completed runs', {
        timeoutMs: 120_000,
        intervalMs: 50,
      });
      const page = await stores[0]!.runs.getRunsPage({ take: 500 });
      expect(page.totalCount).toBe(200);
      expect(page.runs.every((r) => r.status === 'Succeeded')).toBe(true);
      expect([...completions.values()].every((n) => n === 1)).toBe(true);
      for (const runId of runIds) {
        for (const step of ['start', 'b0', 'b1', 'b2', 'b3', 'b4', 'join']) {
          expect(executions.get(`${runId}/${step}`), `${runId}/${step}`).toBe(1);
        }
      }
    } finally {
      for (const r of replicas) await r.stop();
      for (const s of stores) await s.close();
    }
  });

  it('a worker killed with SIGKILL mid-handler: after its lease expires another replica finishes the run once', async () => {
    const schema = newSchema();
    const flowId = randomUUID();
    const flow: FlowDefinition = {
      id: flowId,
      name: 'CrashFlow',
      steps: { prepare: { type: 'Work' }, work: { type: 'Work', runAfter: { prepare: ['Succeeded'] } } },
    };
    const worker = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@floworch/source',
        fileURLToPath(new URL('./crash-worker.ts', import.meta.url)),
      ],
      {
        env: { ...process.env, PG_URL: pgUrl, PG_SCHEMA: schema, FLOW_ID: flowId },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const runId = await new Promise<string>((resolve, reject) => {
      let out = '';
      worker.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /IN_HANDLER (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      worker.on('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)));
    });
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));

    const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
    let workRuns = 0;
    let completed = 0;
    const survivor = createFlowOrchestrator({
      storage,
      flows: [flow],
      logger: silentLogger,
      leaseMs: 1_000,
      maintenanceIntervalMs: 200,
      handlers: {
        Work: ({ stepKey }) => {
          if (stepKey === 'work') workRuns++;
          return 'done';
        },
      },
    });
    survivor.subscribe((e) => {
      if (e.type === 'run.completed') completed++;
    });
    try {
      await survivor.start();
      await waitFor(
        async () => (await storage.runs.getRunDetail(runId))?.status !== 'Running',
        'run to finish',
        { timeoutMs: 30_000, intervalMs: 50 },
      );
      const run = await storage.runs.getRunDetail(runId);
      expect(run!.status).toBe('Succeeded');
      const work = run!.steps!.find((s) => s.stepKey === 'work')!;
      // The killed attempt stays in history as Running; the survivor's attempt succeeded.
      expect(work.attempts.map((a) => a.status)).toEqual(['Running', 'Succeeded']);
      expect(workRuns).toBe(1);
      expect(completed).toBe(1);
    } finally {
      await survivor.stop();
      await storage.close();
    }
  });
});

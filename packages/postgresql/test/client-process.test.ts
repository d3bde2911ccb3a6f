import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createFlowClient, type FlowStorage, hasCapability, silentLogger, toFlowId } from '@floworch/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

const suite = pgUrl ? describe : describe.skip;

/** Starts client-worker.ts and resolves once its orchestrator runs. */
async function startWorker(schema: string): Promise<ChildProcess> {
  const worker = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@floworch/source',
      fileURLToPath(new URL('./client-worker.ts', import.meta.url)),
    ],
    { env: { ...process.env, PG_URL: pgUrl, PG_SCHEMA: schema }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    worker.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('READY')) resolve();
    });
    worker.on('exit', (code) => reject(new Error(`worker exited early (${code}): ${out}`)));
  });
  return worker;
}

suite(`flow client across processes on PostgreSQL (${pgSource})`, () => {
  const admin = adminPool();
  const schema = `floworch_cp_${randomBytes(5).toString('hex')}`;
  afterAll(async () => {
    await dropSchema(admin, schema);
    await admin.end();
  });

  it('a client in this process triggers and awaits a run executed by an orchestrator in a child process', async (context) => {
    const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
    try {
      // The queue contract of this backend is landing separately; until then there is no executor.
      if (!hasCapability(storage as FlowStorage, 'queue')) {
        return context.skip('the postgresql backend has no queue contract yet');
      }
      const worker = await startWorker(schema);
      try {
        // No flows given: the client reads the manifest the child's orchestrator stored.
        const client = createFlowClient({ storage, logger: silentLogger });
        const run = await client.trigger('greeting', { data: { name: 'ada' } });
        const done = await run.result({ timeoutMs: 30_000 });
        expect(done.flowId).toBe(toFlowId('greeting'));
        expect(done.outputs.greet).toBe(`hello ada from ${worker.pid}`);
        expect(done.outputs.shout).toBe(`HELLO ADA FROM ${worker.pid}`);
        const page = await client.listRuns({ flowId: 'greeting', status: 'Succeeded' });
        expect(page.runs.map((r) => r.id)).toEqual([run.runId]);
      } finally {
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.kill('SIGTERM');
        await exited;
      }
    } finally {
      await storage.close();
    }
  });
});

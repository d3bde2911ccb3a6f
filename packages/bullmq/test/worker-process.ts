// A worker process of processes.test.ts: one orchestrator on PostgreSQL whose steps arrive as
// BullMQ jobs. Each handler start is appended (synchronously, so a SIGKILL loses nothing) to the
// process's log file as `<runId> <stepKey> <worker>`.
import { appendFileSync } from 'node:fs';
import { createFlowOrchestrator, silentLogger } from '@floworch/core';
import { createPostgresStorage } from '@floworch/postgresql';
import { createBullMQRuntime } from '../src/index.js';
import { fanFlow } from './flows.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const worker = env('WORKER');
const log = env('LOG_FILE');
const stepMs = Number(env('STEP_MS'));

const storage = await createPostgresStorage({
  connectionString: env('PG_URL'),
  schema: env('PG_SCHEMA'),
  maxConnections: 6,
});
const bull = createBullMQRuntime({
  storage,
  connection: env('REDIS_URL'),
  prefix: env('PREFIX'),
  logger: silentLogger,
  sweepIntervalMs: 1_000,
  redispatchAfterMs: 1_000,
  sweepBatch: 300,
  stuckJobAfterMs: 3_000,
});
const orchestrator = createFlowOrchestrator({
  storage: bull.storage,
  runtime: bull.runtime,
  flows: [fanFlow(env('FLOW_ID'))],
  concurrency: 8,
  leaseMs: Number(env('LEASE_MS')),
  maintenanceIntervalMs: 1_000,
  shutdownGraceMs: 2_000,
  logger: silentLogger,
  instanceId: worker,
  handlers: {
    Work: async ({ runId, stepKey }) => {
      appendFileSync(log, `${runId} ${stepKey} ${worker}\n`);
      await new Promise((resolve) => setTimeout(resolve, stepMs));
      return { by: worker };
    },
  },
});
await orchestrator.start();
process.stdout.write('READY\n');
process.once('SIGTERM', () => {
  void (async () => {
    await orchestrator.stop();
    await bull.close();
    await storage.close();
    process.exit(0);
  })();
});

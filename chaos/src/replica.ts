// One chaos replica: the engine on the chaos database, driven over IPC by main.ts. It installs no
// unhandledRejection / uncaughtException handler on purpose: any such fault must end the process,
// so the driver can count it as a crash.
import { randomUUID } from 'node:crypto';
import { consoleLogger, createFlowOrchestrator, type StepContext } from '@floworch/core';
import { createPostgresStorage, type PostgresStorage } from '@floworch/postgresql';
import { sql } from 'kysely';
import { CHAOS_FLOW_ID, chaosFlow, ENGINE_SCHEMA, idempotencyKeyOf } from './flow.js';
import { type DriverMessage, ReplicaEnv, type ReplicaMessage, replicaAppName } from './protocol.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`replica: ${name} is not set`);
  return value;
};
const slot = Number(env(ReplicaEnv.slot));
const logger = consoleLogger({ replica: slot, pid: process.pid }, 'warn');
/** Handles still open this long after stop() and close() resolved are reported as lingering. */
const LINGER_SAMPLE_MS = 250;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const send = (message: ReplicaMessage): void => {
  process.send?.(message);
};

/** Retries `work` while the database is being faulted (a terminated connection fails one statement). */
async function persistently<T>(what: string, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= 40) throw error;
      logger.warn(`chaos: ${what} failed, retrying`, { attempt, error: (error as Error).message });
      await sleep(Math.min(1_000, 50 * attempt));
    }
  }
}

// Opening can meet a termination round too; a real deployment would restart, we retry.
const storage: PostgresStorage = await persistently('open storage', () =>
  createPostgresStorage({
    connectionString: env(ReplicaEnv.url),
    schema: ENGINE_SCHEMA,
    applicationName: replicaAppName(slot),
    maxConnections: 6,
    logger,
  }),
);

/** Records the execution (row at start, `finished_at` at the end), with a short random work time. */
async function recordExecution({ runId, stepKey }: StepContext): Promise<{ pid: number }> {
  const id = randomUUID();
  await persistently('record execution start', () =>
    sql`INSERT INTO public.chaos_executions (id, run_id, step_key, pid, slot)
        VALUES (${id}, ${runId}, ${stepKey}, ${process.pid}, ${slot})
        ON CONFLICT (id) DO NOTHING`.execute(storage.db),
  );
  await sleep(5 + Math.floor(Math.random() * 60));
  await persistently('record execution end', () =>
    sql`UPDATE public.chaos_executions SET finished_at = clock_timestamp() WHERE id = ${id}`.execute(
      storage.db,
    ),
  );
  return { pid: process.pid };
}

const orchestrator = createFlowOrchestrator({
  storage,
  flows: [chaosFlow],
  handlers: { Record: recordExecution },
  logger,
  leaseMs: Number(env(ReplicaEnv.leaseMs)),
  maintenanceIntervalMs: Number(env(ReplicaEnv.maintenanceIntervalMs)),
  shutdownGraceMs: Number(env(ReplicaEnv.shutdownGraceMs)),
});
await persistently('start orchestrator', () => orchestrator.start());

process.on('message', (message: DriverMessage) => {
  if (message.type === 'trigger') {
    const { index } = message;
    orchestrator.trigger(CHAOS_FLOW_ID, { data: { index }, idempotencyKey: idempotencyKeyOf(index) }).then(
      (result) => send({ type: 'triggered', index, runId: result.runId, duplicate: result.duplicate }),
      (error: unknown) => send({ type: 'trigger-failed', index, error: (error as Error).message }),
    );
  } else if (message.type === 'stop') {
    const began = Date.now();
    void (async () => {
      await orchestrator.stop();
      await storage.close();
      // What would still keep this process alive shortly after a graceful stop (reported, not checked).
      const stopMs = Date.now() - began;
      await sleep(LINGER_SAMPLE_MS);
      const lingering = process.getActiveResourcesInfo().filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap');
      send({ type: 'stopped', stopMs, lingering });
      // Let the IPC message flush; anything still keeping the loop alive is the engine's business.
      process.disconnect?.();
      setTimeout(() => process.exit(0), 200).unref();
    })();
  }
});
send({ type: 'ready', pid: process.pid });

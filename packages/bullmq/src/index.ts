/**
 * `@floworch/bullmq`: steps delivered as BullMQ jobs (Redis) to worker processes, while flow
 * state — runs, steps, the step queue and its leases — stays in @floworch storage.
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import {
  consoleLogger,
  type FlowStorage,
  InvalidArgumentError,
  type Logger,
  type StepRuntimeFactory,
} from '@floworch/core';
import { type ConnectionOptions, Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { StepDispatcher, WRAPPED_BY, wrapStorage } from './dispatcher.js';
import type { StepJobData } from './job-id.js';
import { type BullMQMetrics, DelayStats, jobCounts, registerInstruments } from './metrics.js';
import { BullMQStepRuntime } from './runtime.js';
import { type SweepReport, sweepOnce } from './sweep.js';

export type { DispatchRow, StepJobData } from './job-id.js';
export { stepJobId } from './job-id.js';
export type { BullMQMetrics } from './metrics.js';
export type { SweepReport } from './sweep.js';

/** Options of {@link createBullMQRuntime}. */
export interface BullMQRuntimeOptions<S extends FlowStorage = FlowStorage> {
  /** The flow storage (the source of truth); it must implement `queue.takeStep` and `queue.listDue`. */
  readonly storage: S;
  /**
   * Redis: ioredis options (`{ host, port, db, password, … }`) or a `redis://` URL. Each
   * BullMQ queue and worker opens its own connections from these.
   */
  readonly connection: RedisOptions | string;
  /** BullMQ key prefix: one per deployment (default `floworch`). */
  readonly prefix?: string;
  /** Queue name inside the prefix (default `steps`). */
  readonly queueName?: string;
  /** Jobs each orchestrator processes at once (default: the orchestrator's `concurrency`). */
  readonly concurrency?: number;
  /**
   * How often each process runs the maintenance sweep that re-dispatches due steps whose job is
   * missing from Redis (default 5 000 ms; 0 disables it — then something else must call
   * {@link BullMQRuntime.sweep}). One process per interval does the work (a Redis lock).
   */
  readonly sweepIntervalMs?: number;
  /** A step due for less than this is left to its own job by the sweep (default 1 000 ms). */
  readonly redispatchAfterMs?: number;
  /**
   * A due step whose job a worker took this long ago without claiming the step (the worker died
   * first) is delivered again by the sweep under another id (default 10 000 ms).
   */
  readonly stuckJobAfterMs?: number;
  /** Most due steps one sweep looks at (default 1 000). */
  readonly sweepBatch?: number;
  /** How long an add may take before it is given up and left to the sweep (default 2 000 ms). */
  readonly addTimeoutMs?: number;
  /** BullMQ job lock duration (default BullMQ's, 30 000 ms). */
  readonly lockDurationMs?: number;
  /** BullMQ stalled-job check interval (default BullMQ's, 30 000 ms). */
  readonly stalledIntervalMs?: number;
  /** Logger (default: warnings and errors to the console). */
  readonly logger?: Logger;
}

/** The BullMQ delivery of one deployment's steps, for one process. */
export interface BullMQRuntime<S extends FlowStorage = FlowStorage> {
  /**
   * The storage to give `createFlowOrchestrator` and `createFlowClient`: the same storage, whose
   * writes add a job for every step they queue (entry steps, successors, retries, polls,
   * wake-ups), right after they commit.
   */
  readonly storage: S;
  /** `createFlowOrchestrator({ storage: bull.storage, runtime: bull.runtime, … })`. */
  readonly runtime: StepRuntimeFactory;
  /** The BullMQ queue (producer side), e.g. for a dashboard such as Bull Board. */
  readonly queue: Queue<StepJobData>;
  /** Runs one maintenance sweep now (re-dispatches due steps without a job); ignores the lock. */
  sweep(): Promise<SweepReport>;
  /** Queue depth (Redis) and this process's pickup delay. */
  metrics(): Promise<BullMQMetrics>;
  /** Closes the queue and Redis connections (stop the orchestrators first). */
  close(): Promise<void>;
}

/**
 * Creates the BullMQ delivery for one flow storage.
 *
 * @example
 * const bull = createBullMQRuntime({ storage, connection: { host: '127.0.0.1', port: 6379 } });
 * const orchestrator = createFlowOrchestrator({ storage: bull.storage, runtime: bull.runtime, flows, handlers });
 * await orchestrator.start();
 * // …
 * await orchestrator.stop();
 * await bull.close();
 */
export function createBullMQRuntime<S extends FlowStorage>(
  options: BullMQRuntimeOptions<S>,
): BullMQRuntime<S> {
  const storage = options.storage;
  if (!storage?.queue)
    throw new InvalidArgumentError('storage', 'a storage with the queue contract is required');
  if (!storage.queue.takeStep || !storage.queue.listDue) {
    throw new InvalidArgumentError(
      'storage',
      `backend '${storage.name}' lacks queue.takeStep / queue.listDue, which BullMQ delivery needs`,
    );
  }
  const prefix = options.prefix ?? 'floworch';
  const queueName = options.queueName ?? 'steps';
  if (!/^[^:]+$/.test(prefix) || !/^[^:]+$/.test(queueName)) {
    throw new InvalidArgumentError('prefix', 'prefix and queue name must be non-empty and without ":"');
  }
  const logger = options.logger ?? consoleLogger({ component: 'floworch-bullmq' });
  const redisOptions: RedisOptions =
    typeof options.connection === 'string' ? redisOptionsFromUrl(options.connection) : options.connection;
  const connection = { ...redisOptions } as ConnectionOptions;
  const queue = new Queue<StepJobData>(queueName, { connection, prefix });
  queue.on('error', (error) => logger.warn('BullMQ queue error', { error }));
  const redis = new Redis({ ...redisOptions, lazyConnect: false, maxRetriesPerRequest: 2 });
  redis.on('error', (error) => logger.debug('Redis connection error', { error }));
  const now = () => storage.clock.now();
  const dispatcher = new StepDispatcher(queue, now, logger, options.addTimeoutMs ?? 2_000);
  const wrapped = wrapStorage(storage, dispatcher);
  const delays = new DelayStats();
  const instruments = registerInstruments(queue, queueName).then((record) => {
    delays.onAdd = record;
  });
  const holder = randomUUID();
  const sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
  const sweep = (lockMs: number) =>
    sweepOnce({
      queue: wrapped.queue!,
      dispatcher,
      redis,
      now,
      graceMs: options.redispatchAfterMs ?? 1_000,
      stuckAfterMs: options.stuckJobAfterMs ?? 10_000,
      batch: options.sweepBatch ?? 1_000,
      lockMs,
      holder,
      logger,
    });
  const runtimes = new Set<BullMQStepRuntime>();

  return {
    storage: wrapped,
    queue,
    runtime: (host) => {
      if ((host.storage as unknown as Record<symbol, unknown>)[WRAPPED_BY] !== dispatcher) {
        throw new InvalidArgumentError(
          'storage',
          "the orchestrator's storage must be this runtime's `storage` (the wrapped one that adds jobs)",
        );
      }
      const runtime = new BullMQStepRuntime(
        host,
        dispatcher,
        {
          queueName,
          prefix,
          connection,
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
          ...(options.stalledIntervalMs ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
          sweepIntervalMs,
          sweep: () => sweep(Math.max(1, Math.floor(sweepIntervalMs * 0.8))),
        },
        delays,
      );
      runtimes.add(runtime);
      return runtime;
    },
    sweep: () => sweep(0),
    async metrics() {
      return { jobs: await jobCounts(queue), pickupDelayMs: delays.summary() };
    },
    async close() {
      dispatcher.close();
      await instruments.catch(() => {});
      for (const runtime of runtimes) await runtime.close();
      runtimes.clear();
      await queue.close();
      redis.disconnect();
    },
  };
}

/** ioredis options from a `redis://[user:password@]host:port[/db]` URL. */
function redisOptionsFromUrl(url: string): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError('connection', `expected a redis:// URL, got '${parsed.protocol}'`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

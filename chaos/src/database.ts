import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The chaos run's own database on the server, and the admin connection that manages it. */
export interface ChaosDatabase {
  /** `floworch_chaos_<random>`. */
  readonly name: string;
  /** Connection string of that database. */
  readonly url: string;
  /** Terminates every connection to this database (never another one's); returns how many. */
  terminateConnections(): Promise<number>;
  /** Drops the database (unless kept) and closes the admin connection. */
  dispose(keep: boolean): Promise<void>;
}

/** The admin URL with its database replaced. */
function withDatabase(adminUrl: string, database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates a fresh `floworch_chaos_<random>` database through `adminUrl`. */
export async function createChaosDatabase(adminUrl: string): Promise<ChaosDatabase> {
  const host = new URL(adminUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    // The suite kills connections and creates/drops databases: keep it on a local server.
    throw new Error(`chaos runs only against a local PostgreSQL (got host ${host})`);
  }
  const name = `floworch_chaos_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: adminUrl, max: 1, application_name: 'floworch_chaos_admin' });
  admin.on('error', () => {}); // only its own idle connection can drop; the next query reconnects
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.end();
    throw new Error(`cannot create the chaos database through ${host}: ${(error as Error).message}`);
  }
  return {
    name,
    url: withDatabase(adminUrl, name),
    async terminateConnections() {
      const { rows } = await admin.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [name],
      );
      return rows.filter((r) => r.ok).length;
    },
    async dispose(keep) {
      try {
        // WITH (FORCE) ends the remaining sessions of this database only.
        if (!keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

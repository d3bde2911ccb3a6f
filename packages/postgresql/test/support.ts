import pg from 'pg';
import { inject } from 'vitest';

/** The server URL chosen by global-setup.ts ('' when none), and how it was found. */
export const pgUrl: string = inject('pgUrl');
export const pgSource: string = inject('pgSource');

/** An admin pool for creating and dropping per-test schemas. */
export function adminPool(): pg.Pool {
  return new pg.Pool({ connectionString: pgUrl, max: 2 });
}

/** Drops a test schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

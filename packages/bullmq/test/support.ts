import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Redis for the tests: FLOWORCH_TEST_REDIS_URL, default database 13 of the machine's server. The
 * tests use their own database number and a unique key prefix per test, delete only their own
 * keys, and never touch another database. The FLUSHDB test uses a database of its own
 * (FLOWORCH_TEST_REDIS_FLUSH_DB, default 14).
 */
export const redisUrl = process.env.FLOWORCH_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/13';
export const flushDb = Number(process.env.FLOWORCH_TEST_REDIS_FLUSH_DB ?? 14);

/** The URL of the same server with another database number. */
export function redisUrlWithDb(db: number): string {
  const url = new URL(redisUrl);
  url.pathname = `/${db}`;
  return url.toString();
}

/** PostgreSQL for the process tests (the machine's server unless FLOWORCH_PG_URL says otherwise). */
export const pgUrl = process.env.FLOWORCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(check: () => Promise<unknown>): Promise<string | null> {
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2_000)),
    ]);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

const redisProbe = new Redis(redisUrl, {
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
});
redisProbe.on('error', () => {});
/** Why Redis cannot be used, or null. */
export const redisMissing = await reachable(async () => {
  await redisProbe.connect();
  await redisProbe.ping();
});
redisProbe.disconnect();

/** Why PostgreSQL cannot be used, or null. */
export const pgMissing = await reachable(async () => {
  const client = new pg.Client({ connectionString: pgUrl });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
});

/** Suite title suffix that says what was used, or why the suite is skipped. */
export function requirement(needPg: boolean): { skip: boolean; label: string } {
  const missing = [
    redisMissing ? `Redis unreachable at ${redisUrl}: ${redisMissing}` : null,
    needPg && pgMissing ? `PostgreSQL unreachable at ${pgUrl}: ${pgMissing}` : null,
  ].filter(Boolean);
  if (missing.length > 0) return { skip: true, label: `SKIPPED — ${missing.join('; ')}` };
  return { skip: false, label: needPg ? `Redis ${redisUrl}, PostgreSQL` : `Redis ${redisUrl}` };
}

/** A key prefix no other test uses. */
export const uniquePrefix = (): string => `fotest-${randomBytes(5).toString('hex')}`;

/** Deletes the keys of one prefix (SCAN + DEL on this database only). */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
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
}

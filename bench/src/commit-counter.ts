import pg from 'pg';

/**
 * Counts transactions committed in one PostgreSQL database through `pg_stat_database.xact_commit`.
 *
 * Two details keep the deltas honest:
 * - the counter's own reads never commit: it keeps one transaction open (READ COMMITTED, no xid,
 *   so it holds back no vacuum horizon) and rolls it back on close, so it adds 0 to `xact_commit`;
 * - other backends publish their counters lazily (PG 15+: at most once a second while busy, and up to
 *   10 s later when idle), but always when they exit. Callers therefore end their pool before the
 *   final read, and {@link CommitCounter.settle} polls until the value stops moving.
 */
export class CommitCounter {
  readonly #client: pg.Client;
  readonly #database: string;

  private constructor(client: pg.Client, database: string) {
    this.#client = client;
    this.#database = database;
  }

  /** Opens a dedicated connection and its never-committed read transaction. */
  static async open(connectionString: string): Promise<CommitCounter> {
    const client = new pg.Client({ connectionString });
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
    const db = await client.query<{ db: string }>('SELECT current_database() AS db');
    return new CommitCounter(client, db.rows[0]!.db);
  }

  /** Total commits of the database published so far (a fresh statistics snapshot each call). */
  async read(): Promise<number> {
    await this.#client.query('SELECT pg_stat_clear_snapshot()');
    const r = await this.#client.query<{ n: string }>(
      'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1',
      [this.#database],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /**
   * Reads until the counter has not moved for `quietMs` (backends that just exited flush on exit),
   * giving up after `maxMs`.
   */
  async settle(quietMs = 150, maxMs = 5_000): Promise<number> {
    const deadline = Date.now() + maxMs;
    let last = await this.read();
    let stableSince = Date.now();
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      const now = await this.read();
      if (now !== last) {
        last = now;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= quietMs) {
        break;
      }
    }
    return last;
  }

  /** Rolls back the read transaction and closes the connection. */
  async close(): Promise<void> {
    await this.#client.query('ROLLBACK').catch(() => {});
    await this.#client.end();
  }
}

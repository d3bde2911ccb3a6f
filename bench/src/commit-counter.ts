import pg from 'pg';

/**
 * Counts transactions committed in one PostgreSQL database through `pg_stat_database`.
 * The statistics collector publishes with a delay, so `read()` forces a fresh snapshot.
 */
export class CommitCounter {
  readonly #client: pg.Client;
  readonly #database: string;

  private constructor(client: pg.Client, database: string) {
    this.#client = client;
    this.#database = database;
  }

  /** Opens a dedicated connection (its own queries are excluded from the deltas it reports). */
  static async open(connectionString: string): Promise<CommitCounter> {
    const client = new pg.Client({ connectionString });
    await client.connect();
    const db = await client.query<{ db: string }>('SELECT current_database() AS db');
    return new CommitCounter(client, db.rows[0]!.db);
  }

  /** Total commits of the database so far. */
  async read(): Promise<number> {
    await this.#client.query('SELECT pg_stat_clear_snapshot()');
    // Flush this backend's pending stats; other backends flush at transaction end (PG 15+: shared memory stats).
    const r = await this.#client.query<{ n: string }>(
      'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = $1',
      [this.#database],
    );
    return Number(r.rows[0]?.n ?? 0);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.#client.end();
  }
}

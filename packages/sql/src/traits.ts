import type { Expression, Kysely, RawBuilder, SqlBool } from 'kysely';
import type { LogicalDatabase } from './schema.js';

/** The dialects the shared layer speaks. */
export type SqlDialectName = 'postgres' | 'mssql';

/** Lock hints a statement can ask for; each dialect spells (or drops) them its own way. */
export type TableLock =
  /** Key-range lock held from a probe to the write that follows (insert-if-absent). */
  | 'probe'
  /** Row lock a competing writer skips instead of waiting for (queue-style take). */
  | 'skip-locked';

/**
 * Where PostgreSQL and SQL Server differ, as small functions the shared queries call. Everything
 * else about a query is written once against the logical schema.
 */
export interface SqlTraits {
  /** Which dialect these traits describe. */
  readonly dialect: SqlDialectName;
  /** An instant as a parameter the database stores without losing precision. */
  instant(value: Date): RawBuilder<Date>;
  /** A UUID parameter (validated and lower-cased where the database would fail obscurely). */
  id(value: string, what: string): string;
  /** A key parameter (step key, signal name, job id; length-checked where the column is narrow). */
  key(value: string, what: string): string;
  /** Expression ordering `column` ordinally (code-point order, case-sensitive). */
  ordinal(column: string): Expression<unknown>;
  /** Expression ordering a UUID `column` the way its canonical lower-case text sorts. */
  ordinalId(column: string): Expression<unknown>;
  /** A UUID `column` as its text form (any letter case), for text matching. */
  idText(column: string): Expression<string>;
  /** Case-insensitive "contains `term` literally" in a column or text expression (wildcards escaped). */
  containsIgnoringCase(column: string | Expression<unknown>, term: string): Expression<SqlBool>;
  /** Case-insensitive equality of `column` and `value`. */
  equalsIgnoringCase(column: string, value: string): Expression<SqlBool>;
  /** `table AS alias` carrying `lock`, for a `FROM` clause. */
  lockedTable(table: keyof LogicalDatabase & string, alias: string, lock: TableLock): RawBuilder<unknown>;
  /** True when `error` is a duplicate-key violation. */
  isDuplicateKey(error: unknown): boolean;
  /** True when `error` means the statement lost a deadlock and may simply be re-run. */
  isDeadlock(error: unknown): boolean;
}

/**
 * Everything a shared store needs: the logical query builder, the dialect traits, the clock's
 * "now", and the backend's error hook (which translates driver errors for callers).
 */
export interface SqlLayer {
  /** Builder over the logical schema; the naming plugin spells names for the database. */
  readonly db: Kysely<LogicalDatabase>;
  /** The dialect's differences. */
  readonly traits: SqlTraits;
  /** Source of every "now" the stores write (never the database clock, so tests can fake time). */
  readonly now: () => Date;
  /** Runs one store operation; the backend translates or retries errors here. */
  readonly run: <T>(operation: string, work: () => Promise<T>) => Promise<T>;
  /**
   * Runs several reads that must agree with each other (a run and its steps): in one read-only
   * snapshot where the builder can open transactions, otherwise directly, reads issued in order.
   */
  readonly readTogether: <T>(work: (db: Kysely<LogicalDatabase>) => Promise<T>) => Promise<T>;
}

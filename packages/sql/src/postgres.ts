import { type Kysely, sql } from 'kysely';
import { containsPattern, LIKE_ESCAPE } from './like.js';
import { NamingPlugin, postgresNames } from './naming.js';
import type { LogicalDatabase } from './schema.js';
import type { SqlLayer, SqlTraits } from './traits.js';

/** How a backend classifies its driver's errors. */
export interface ErrorClassifier {
  /** True for a duplicate-key violation. */
  readonly isDuplicateKey: (error: unknown) => boolean;
  /** True for a deadlock victim. */
  readonly isDeadlock: (error: unknown) => boolean;
}

/** PostgreSQL's SQLSTATE of an error, if any. */
function sqlState(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}

/** PostgreSQL's error classes: 23505 unique_violation, 40P01 deadlock_detected. */
export const postgresErrors: ErrorClassifier = {
  isDuplicateKey: (error) => sqlState(error) === '23505',
  isDeadlock: (error) => sqlState(error) === '40P01',
};

/** PostgreSQL's side of every dialect difference. */
export function postgresTraits(errors: ErrorClassifier = postgresErrors): SqlTraits {
  return {
    dialect: 'postgres',
    instant: (value) => sql<Date>`${value}::timestamptz`,
    id: (value) => value,
    key: (value) => value,
    ordinal: (column) => sql`${sql.ref(column)} collate "C"`,
    ordinalId: (column) => sql.ref(column),
    idText: (column) => sql<string>`${sql.ref(column)}::text`,
    containsIgnoringCase: (column, term) =>
      sql<boolean>`${typeof column === 'string' ? sql.ref(column) : column} ilike ${containsPattern(term)} escape ${LIKE_ESCAPE}`,
    equalsIgnoringCase: (column, value) => sql<boolean>`lower(${sql.ref(column)}) = lower(${value})`,
    lockedTable: (table, alias) => sql`${sql.table(table)} as ${sql.id(alias)}`,
    isDuplicateKey: errors.isDuplicateKey,
    isDeadlock: errors.isDeadlock,
  };
}

/** What {@link postgresLayer} needs from the backend. */
export interface PostgresLayerOptions {
  /** A kysely instance over the backend's physical (snake_case) tables. */
  // biome-ignore lint/suspicious/noExplicitAny: the backend's own table types do not matter here.
  readonly db: Kysely<any>;
  /** Schema to qualify tables with (omit when `db` is already schema-bound). */
  readonly schema?: string;
  /** Source of "now". */
  readonly now: () => Date;
  /** Error hook around every store operation. */
  readonly run: SqlLayer['run'];
  /** Driver error classification (default: SQLSTATE). */
  readonly errors?: ErrorClassifier;
}

/** The shared layer over a PostgreSQL (or PGlite) kysely instance. */
export function postgresLayer(options: PostgresLayerOptions): SqlLayer {
  const db = options.db.withPlugin(
    new NamingPlugin(postgresNames(options.schema)),
  ) as Kysely<LogicalDatabase>;
  return {
    db,
    traits: postgresTraits(options.errors),
    now: options.now,
    run: options.run,
    // Repeatable read: every statement of `work` sees the same committed state.
    readTogether: (work) =>
      db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work),
  };
}

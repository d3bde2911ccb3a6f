import { InvalidArgumentError, isUuid } from '@floworch/core/backend';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  MssqlAdapter,
  MssqlIntrospector,
  type QueryResult,
  sql,
} from 'kysely';
import { containsPattern, LIKE_ESCAPE } from './like.js';
import { BracketMssqlQueryCompiler } from './mssql-compiler.js';
import { NamingPlugin, sqlServerNames } from './naming.js';
import type { ErrorClassifier } from './postgres.js';
import type { LogicalDatabase } from './schema.js';
import type { SqlLayer, SqlTraits, TableLock } from './traits.js';

/** Binary collation: ordinal, case-sensitive comparison and ordering. */
export const SQLSERVER_KEY_COLLATION = 'Latin1_General_100_BIN2';

/** Collation of case-insensitive matching (search, filters). */
export const SQLSERVER_CI_COLLATION = 'Latin1_General_100_CI_AS';

/** Width of every key column (`NVARCHAR(256)`). */
export const SQLSERVER_MAX_KEY_LENGTH = 256;

const HINTS: Readonly<Record<TableLock, string>> = {
  probe: 'WITH (UPDLOCK, HOLDLOCK)',
  'skip-locked': 'WITH (UPDLOCK, READPAST, ROWLOCK)',
};

/**
 * An instant as `DATETIMEOFFSET(7)`: ISO-8601 text converted by the server (style 127), so the
 * stored value never depends on how a driver types a JS `Date` (`datetime` rounds to 1/300 s).
 */
export function sqlServerInstant(value: Date): ReturnType<typeof sql<Date>> {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new InvalidArgumentError('instant', `expected a valid Date, got ${String(value)}`);
  }
  return sql<Date>`CONVERT(DATETIMEOFFSET(7), ${value.toISOString()}, 127)`;
}

/** SQL Server's side of every dialect difference. */
export function sqlServerTraits(errors: ErrorClassifier): SqlTraits {
  return {
    dialect: 'mssql',
    instant: sqlServerInstant,
    // A malformed id would fail deep inside a statement with a conversion error; name it instead.
    id: (value, what) => {
      if (!isUuid(value)) throw new InvalidArgumentError(what, `'${String(value)}' is not a UUID`);
      return value.toLowerCase();
    },
    // A longer value could never have been stored, and would be truncated onto another key.
    key: (value, what) => {
      if (typeof value !== 'string') throw new InvalidArgumentError(what, 'must be a string');
      if (value.length > SQLSERVER_MAX_KEY_LENGTH) {
        throw new InvalidArgumentError(
          what,
          `is ${value.length} characters long; at most ${SQLSERVER_MAX_KEY_LENGTH} fit`,
        );
      }
      return value;
    },
    ordinal: (column) => sql`${sql.ref(column)} COLLATE ${sql.raw(SQLSERVER_KEY_COLLATION)}`,
    ordinalId: (column) =>
      sql`CONVERT(NCHAR(36), ${sql.ref(column)}) COLLATE ${sql.raw(SQLSERVER_KEY_COLLATION)}`,
    idText: (column) => sql<string>`CONVERT(NVARCHAR(36), ${sql.ref(column)})`,
    containsIgnoringCase: (column, term) =>
      sql<boolean>`${typeof column === 'string' ? sql.ref(column) : column} COLLATE ${sql.raw(SQLSERVER_CI_COLLATION)} LIKE ${containsPattern(term, true)} ESCAPE ${sql.raw(`N'${LIKE_ESCAPE}'`)}`,
    equalsIgnoringCase: (column, value) =>
      sql<boolean>`${sql.ref(column)} COLLATE ${sql.raw(SQLSERVER_CI_COLLATION)} = ${value}`,
    lockedTable: (table, alias, lock) => sql`${sql.table(table)} AS ${sql.id(alias)} ${sql.raw(HINTS[lock])}`,
    isDuplicateKey: errors.isDuplicateKey,
    isDeadlock: errors.isDeadlock,
  };
}

/**
 * A kysely instance that compiles with the bracket compiler and the SQL Server naming plugin, and
 * hands every compiled statement to `executor` (any kysely instance over the MSSQL dialect, the
 * backend's own or one the application supplied). Only single statements run through it.
 */
export function sqlServerQueryDb(executor: Kysely<unknown>, schema: string): Kysely<LogicalDatabase> {
  const connection: DatabaseConnection = {
    executeQuery: <R>(compiled: CompiledQuery): Promise<QueryResult<R>> =>
      executor.executeQuery<R>(compiled as CompiledQuery<R>),
    // biome-ignore lint/correctness/useYield: streaming is never used by the stores.
    async *streamQuery() {
      throw new Error('streaming is not supported by the shared SQL layer');
    },
  };
  const unsupported = async () => {
    throw new Error('transactions run on the backend kysely instance, not the shared query builder');
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: unsupported,
    commitTransaction: unsupported,
    rollbackTransaction: unsupported,
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return new Kysely<LogicalDatabase>({
    dialect: {
      createAdapter: () => new MssqlAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => new MssqlIntrospector(db),
      createQueryCompiler: () => new BracketMssqlQueryCompiler(),
    },
    plugins: [new NamingPlugin(sqlServerNames(schema))],
  });
}

/** What {@link sqlServerLayer} needs from the backend. */
export interface SqlServerLayerOptions {
  /** Any kysely instance over the MSSQL dialect. */
  readonly executor: Kysely<unknown>;
  /** Schema holding the tables. */
  readonly schema: string;
  /** Source of "now". */
  readonly now: () => Date;
  /** Error hook around every store operation (default: none). */
  readonly run?: SqlLayer['run'];
  /** Driver error classification. */
  readonly errors: ErrorClassifier;
}

/** The shared layer over a SQL Server kysely instance. */
export function sqlServerLayer(options: SqlServerLayerOptions): SqlLayer {
  const db = sqlServerQueryDb(options.executor, options.schema);
  return {
    db,
    traits: sqlServerTraits(options.errors),
    now: options.now,
    run: options.run ?? ((_operation, work) => work()),
    // The builder cannot open transactions; readers order their reads so the first one decides.
    readTogether: (work) => work(db),
  };
}

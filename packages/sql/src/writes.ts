import type { Insertable, Selectable } from 'kysely';
import type { LogicalDatabase, LogicalTable } from './schema.js';
import type { SqlLayer } from './traits.js';

/** A row to write: logical column → value or expression (e.g. an instant). */
type Values<T extends LogicalTable> = { readonly [C in keyof Insertable<LogicalDatabase[T]>]?: unknown };

/** The untyped builder the generic helpers compose (their callers keep the types). */
// biome-ignore lint/suspicious/noExplicitAny: table and column names are generic here.
type Untyped = any;

/**
 * Inserts a row or, when `key` exists, updates the `update` columns, and returns the row as
 * stored. PostgreSQL: `insert … on conflict do update … returning`; SQL Server:
 * `merge … with (holdlock)` (serialising concurrent first writes of one key) `… output inserted.*`.
 */
export async function upsertReturning<T extends LogicalTable>(
  layer: SqlLayer,
  table: T,
  key: Values<T>,
  values: Values<T>,
  update: readonly (keyof Values<T> & string)[],
): Promise<Selectable<LogicalDatabase[T]>> {
  const db = layer.db as Untyped;
  const keyColumns = Object.keys(key);
  const row = { ...key, ...values } as Record<string, unknown>;
  const changes = Object.fromEntries(update.map((column) => [column, row[column]]));
  if (layer.traits.dialect === 'postgres') {
    return db
      .insertInto(table)
      .values(row)
      .onConflict((oc: Untyped) => oc.columns(keyColumns).doUpdateSet(changes))
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  const source = db.selectNoFrom((eb: Untyped) => keyColumns.map((c) => eb.val(row[c]).as(c))).as('s');
  let merge = db.mergeInto(`${table} as t`).using(source, (join: Untyped) => {
    let on = join;
    for (const c of keyColumns) on = on.onRef(`t.${c}`, '=', `s.${c}`);
    return on;
  });
  merge = merge.whenMatched().thenUpdateSet(changes).whenNotMatched().thenInsertValues(row);
  return retryDeadlocks(layer, () => merge.outputAll('inserted').executeTakeFirstOrThrow());
}

/**
 * Inserts `values` unless a row with the same `key` exists; true when this call inserted. The
 * loser of a race gets false, never an error: PostgreSQL uses `on conflict do nothing`, SQL
 * Server probes under a key-range lock and treats a duplicate key (belt and braces) as false.
 */
export async function insertIfAbsent<T extends LogicalTable>(
  layer: SqlLayer,
  table: T,
  key: Values<T>,
  values: Values<T>,
): Promise<boolean> {
  const db = layer.db as Untyped;
  const row = { ...key, ...values } as Record<string, unknown>;
  const columns = Object.keys(row);
  const keyColumns = Object.keys(key);
  if (layer.traits.dialect === 'postgres') {
    const inserted = await db
      .insertInto(table)
      .values(row)
      .onConflict((oc: Untyped) => oc.columns(keyColumns).doNothing())
      .returning(keyColumns[0])
      .execute();
    return inserted.length > 0;
  }
  const select = db
    .selectNoFrom((eb: Untyped) => columns.map((c) => eb.val(row[c]).as(c)))
    .where((eb: Untyped) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom(layer.traits.lockedTable(table, 'x', 'probe'))
            .select(eb.lit(1).as('one'))
            .where(eb.and(keyColumns.map((c) => eb(`x.${c}`, '=', row[c])))),
        ),
      ),
    );
  try {
    const inserted = await retryDeadlocks(layer, () =>
      db.insertInto(table).columns(columns).output(`inserted.${keyColumns[0]}`).expression(select).execute(),
    );
    return (inserted as unknown[]).length > 0;
  } catch (error) {
    if (layer.traits.isDuplicateKey(error)) return false;
    throw error;
  }
}

/** How often a deadlock victim is re-run before the error surfaces. */
export const DEADLOCK_RETRIES = 5;

/**
 * Re-runs `work` when the database chose it as a deadlock victim (the statement was rolled back
 * as a whole, so running it again is safe). Key-range locks taken by upserts and probes can
 * deadlock under heavy contention; callers want the race's answer, not an error.
 */
export async function retryDeadlocks<T>(layer: SqlLayer, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!layer.traits.isDeadlock(error) || attempt >= DEADLOCK_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

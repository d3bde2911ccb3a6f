import type { Clock } from '@floworch/core';
import { type SqlLayer, sqlServerLayer } from '@floworch/sql';
import type { Kysely, RawBuilder } from 'kysely';
import { isDeadlockError, isDuplicateKeyError } from './errors.js';
import type { SqlNames } from './names.js';

/** What every store needs: the kysely instance, the schema's table names and the clock. */
export interface SqlContext {
  /** Any kysely instance over the MSSQL dialect. */
  readonly db: Kysely<unknown>;
  /** Bracketed, schema-qualified table names. */
  readonly n: SqlNames;
  /** Source of every "now". */
  readonly clock: Clock;
}

/** Runs a statement and returns its rows. */
export async function query<R>(ctx: SqlContext, statement: RawBuilder<R>): Promise<R[]> {
  return [...(await statement.execute(ctx.db)).rows];
}

/** Runs a statement and returns its first row, or `undefined`. */
export async function queryFirst<R>(ctx: SqlContext, statement: RawBuilder<R>): Promise<R | undefined> {
  return (await query(ctx, statement))[0];
}

/** How often a statement chosen as deadlock victim is re-run before the error surfaces. */
export const DEADLOCK_RETRIES = 5;

/**
 * Re-runs `work` when SQL Server picked it as a deadlock victim (error 1205: the transaction was
 * rolled back as a whole, so a retry is safe). Key-range locks taken by `HOLDLOCK` guards can
 * deadlock under heavy contention; the contract wants losers to get `false`, not an error.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDeadlockError(error) || attempt >= DEADLOCK_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

/**
 * Runs an insert-if-absent statement that returns a row only when it inserted. A duplicate-key
 * error (2627/2601) can only mean another session inserted the same key first, so it is the
 * loser's `false`: belt and braces behind the statement's `UPDLOCK, HOLDLOCK` guard.
 */
export async function tryInsert(ctx: SqlContext, statement: RawBuilder<unknown>): Promise<boolean> {
  try {
    return await retryOnDeadlock(async () => (await query(ctx, statement)).length > 0);
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}

const layers = new WeakMap<SqlContext, SqlLayer>();

/** The shared SQL layer over this context (one per context): PascalCase names in the context's schema. */
export function sqlLayer(ctx: SqlContext): SqlLayer {
  let layer = layers.get(ctx);
  if (!layer) {
    layer = sqlServerLayer({
      executor: ctx.db,
      schema: ctx.n.schema,
      now: () => ctx.clock.now(),
      errors: { isDuplicateKey: isDuplicateKeyError, isDeadlock: isDeadlockError },
    });
    layers.set(ctx, layer);
  }
  return layer;
}

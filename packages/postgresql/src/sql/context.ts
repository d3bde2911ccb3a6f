import type { Clock } from '@floworch/core';
import { postgresLayer, type SqlLayer } from '@floworch/sql';
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Database } from '../schema/database.js';
import { guard } from './errors.js';

/** What every store shares: the schema-bound kysely instance, the raw one, and the clock. */
export interface PgContext {
  /** Kysely bound to the backend's schema (builder queries need no qualification). */
  readonly db: Kysely<Database>;
  /** The backend's schema name. */
  readonly schema: string;
  /** Source of every "now" the stores write; never the server's `NOW()`, so tests can fake time. */
  readonly clock: Clock;
}

/** A schema-qualified table reference for `sql` templates. */
export function table(ctx: PgContext, name: keyof Database): RawBuilder<unknown> {
  return sql.id(ctx.schema, name);
}

/** int8 / count values arrive as strings from pg and as numbers or bigints from PGlite. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Timestamps arrive as `Date` from both drivers; copy defensively so callers own the value. */
export function toDate(value: Date | string): Date {
  return new Date(value instanceof Date ? value.getTime() : value);
}

/** Nullable variant of {@link toDate}. */
export function toDateOrNull(value: Date | string | null): Date | null {
  return value === null ? null : toDate(value);
}

const layers = new WeakMap<PgContext, SqlLayer>();

/**
 * The shared SQL layer over this context (one per context): logical names spelled snake_case,
 * every operation's errors translated by {@link guard}.
 */
export function pgLayer(ctx: PgContext): SqlLayer {
  let layer = layers.get(ctx);
  if (!layer) {
    layer = postgresLayer({ db: ctx.db, now: () => ctx.clock.now(), run: guard });
    layers.set(ctx, layer);
  }
  return layer;
}

import { InvalidArgumentError } from '@floworch/core';
import { isUuid } from '@floworch/core/backend';
import { type RawBuilder, sql } from 'kysely';

/**
 * An instant as a `DATETIMEOFFSET(7)` expression. The value travels as ISO-8601 text and is
 * converted by the server (style 127), so precision never depends on how a driver maps JS `Date`
 * (kysely binds it as `datetime`, which rounds to 1/300 s).
 */
export function ts(instant: Date): RawBuilder<Date> {
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) {
    throw new InvalidArgumentError('instant', `expected a valid Date, got ${String(instant)}`);
  }
  return sql<Date>`CONVERT(DATETIMEOFFSET(7), ${instant.toISOString()}, 127)`;
}

/** Like {@link ts}, with `NULL` for a missing instant. */
export function tsOrNull(instant: Date | null | undefined): RawBuilder<Date | null> {
  return instant ? ts(instant) : sql<null>`NULL`;
}

/**
 * A validated, lower-cased UUID parameter. SQL Server would fail a malformed id with a conversion
 * error deep inside a statement; this names the argument instead.
 */
export function uuid(value: string, what: string): string {
  if (!isUuid(value)) throw new InvalidArgumentError(what, `'${String(value)}' is not a UUID`);
  return value.toLowerCase();
}

// Column readers (dates, ids, numbers, bits) are the shared layer's: one copy for both backends.
export { toBool, toDate, toDateOrNull, toNumber, toUuid } from '@floworch/sql';

/** Width of every key column (`NVARCHAR(256)`). */
export const MAX_KEY_LENGTH = 256;

/**
 * A step key, signal name or similar key parameter. Longer values could never have been stored,
 * and a `NVARCHAR(256)` variable would silently truncate them onto another key, so they are refused.
 */
export function key(value: string, what: string): string {
  if (typeof value !== 'string') throw new InvalidArgumentError(what, 'must be a string');
  if (value.length > MAX_KEY_LENGTH) {
    throw new InvalidArgumentError(what, `is ${value.length} characters long; at most ${MAX_KEY_LENGTH} fit`);
  }
  return value;
}

/**
 * The `DECLARE` prelude of a step-scoped batch: `@run`, `@key` and `@now` (from the clock), so the
 * statements below name each value once.
 */
export function stepVars(runId: string, stepKey: string, now: Date): RawBuilder<unknown> {
  return sql`DECLARE @run UNIQUEIDENTIFIER = ${uuid(runId, 'runId')}, @key NVARCHAR(256) = ${key(stepKey, 'stepKey')}, @now DATETIMEOFFSET(7) = ${ts(now)};`;
}

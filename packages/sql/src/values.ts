/** A driver's instant (`Date`, or text from some drivers) as a fresh `Date` the caller owns. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return new Date(value.getTime());
  return new Date(String(value));
}

/** Like {@link toDate}, keeping `NULL`. */
export function toDateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value);
}

/** A UUID column value in canonical lower case (SQL Server returns upper case). */
export function toUuid(value: unknown): string {
  return String(value).toLowerCase();
}

/** Like {@link toUuid}, keeping `NULL`. */
export function toUuidOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toUuid(value);
}

/** An integer column value (`bigint` arrives as a string or bigint from some drivers) as a number. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A boolean / `BIT` column value as a boolean. */
export function toBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}

/** SQL Server error numbers of a duplicate key: 2627 (PK/unique constraint), 2601 (unique index). */
export const DUPLICATE_KEY_ERRORS: ReadonlySet<number> = new Set([2627, 2601]);

/** Error 1205: chosen as deadlock victim; the transaction was rolled back and may be retried. */
export const DEADLOCK_ERROR = 1205;

/** The SQL Server error numbers carried by a tedious error (kysely may pass an array). */
export function sqlErrorNumbers(error: unknown): number[] {
  const found: number[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (depth > 4 || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    const record = value as { number?: unknown; errors?: unknown; cause?: unknown };
    if (typeof record.number === 'number') found.push(record.number);
    if (record.errors !== undefined) visit(record.errors, depth + 1);
    if (record.cause !== undefined) visit(record.cause, depth + 1);
  };
  visit(error, 0);
  return found;
}

/** True when the error is exactly a duplicate-key violation (2627 or 2601), nothing else. */
export function isDuplicateKeyError(error: unknown): boolean {
  return sqlErrorNumbers(error).some((n) => DUPLICATE_KEY_ERRORS.has(n));
}

/** True when the error is a deadlock-victim error. */
export function isDeadlockError(error: unknown): boolean {
  return sqlErrorNumbers(error).includes(DEADLOCK_ERROR);
}

// Orderings and filter normalisation shared by the stores, so every list sorts and filters the way
// the SQL backends do (binary collation, case-insensitive filters).

/** Ordinal (code-unit) comparison, like SQL `COLLATE "C"`; chain keys with `||`. */
export function compareOrdinal(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A text filter as the stores match it: trimmed and lower-cased; blank means "no filter". */
export function textFilter(value: string | null | undefined): string | null {
  const trimmed = value?.trim();
  return trimmed ? trimmed.toLowerCase() : null;
}

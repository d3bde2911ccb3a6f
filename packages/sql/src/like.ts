/** The escape character of every `LIKE` the shared layer issues. */
export const LIKE_ESCAPE = '\\';

/**
 * A `LIKE` pattern matching `term` as a literal substring. `%`, `_` and the escape character are
 * escaped everywhere; `[` too when `bracketClasses` (SQL Server reads `[` as a character class).
 */
export function containsPattern(term: string, bracketClasses = false): string {
  let out = '%';
  for (const ch of term) {
    if (ch === '%' || ch === '_' || ch === LIKE_ESCAPE || (bracketClasses && ch === '[')) out += LIKE_ESCAPE;
    out += ch;
  }
  return `${out}%`;
}

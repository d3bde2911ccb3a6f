/** The escape character of every `LIKE` this backend issues (`… LIKE @p ESCAPE N'\'`). */
export const LIKE_ESCAPE = '\\';

/**
 * A `LIKE` pattern matching `term` as a literal substring. On SQL Server `%`, `_` and `[` are
 * wildcards (`[` opens a character class), so each is escaped, as is the escape character itself.
 * `]` is left alone: outside a class it is already literal.
 */
export function containsPattern(term: string): string {
  let out = '%';
  for (const ch of term) {
    if (ch === '%' || ch === '_' || ch === '[' || ch === LIKE_ESCAPE) out += LIKE_ESCAPE;
    out += ch;
  }
  return `${out}%`;
}

/**
 * Normalises an idempotency trigger key or key: trimmed and lower-cased, so that
 * `"  Key-A "` and `"key-a"` collide.
 */
export function normalizeIdempotencyPart(value: string): string {
  return value.trim().toLowerCase();
}

/** Signal names are trimmed by every caller; comparison stays case-sensitive. */
export function normalizeSignalName(value: string): string {
  return value.trim();
}

/** Maximum stored length of a webhook rejection reason. */
export const MAX_REJECTION_REASON_LENGTH = 64;

/** Truncates a webhook rejection reason to the column width. */
export function truncateReason(reason: string): string {
  return reason.length > MAX_REJECTION_REASON_LENGTH ? reason.slice(0, MAX_REJECTION_REASON_LENGTH) : reason;
}

/**
 * Escapes a search term for a `LIKE` pattern with `escapeChar` as the escape character, so that
 * `%`, `_`, `[`, and the escape character itself match literally.
 */
export function escapeLikePattern(term: string, escapeChar = '\\'): string {
  let out = '';
  for (const ch of term) {
    if (ch === '%' || ch === '_' || ch === '[' || ch === ']' || ch === escapeChar) out += escapeChar;
    out += ch;
  }
  return out;
}

/** Copies a header map with lower-cased names (later duplicates win). */
export function lowerCaseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = String(value);
  return out;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string (any case). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

/** The all-zero UUID used as the flow id of control rows created before `configureRun`. */
export const EMPTY_UUID = '00000000-0000-0000-0000-000000000000';

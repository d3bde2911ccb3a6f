/**
 * Headers never captured into trigger data or the DLQ: credentials (a leaked `Authorization` or
 * `X-Webhook-Key` is a leaked secret) and hop-by-hop framing headers that mean nothing later.
 */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'set-cookie',
  'x-webhook-key',
  'proxy-authorization',
  'connection',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/**
 * All request headers with lower-cased names; repeated headers are joined with `,` (the Fetch
 * `Headers` object already does so). Used by signature verification, which may need a header
 * from the sensitive set (Microsoft Teams signs in `Authorization`).
 */
export function allHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

/** The request headers minus {@link SENSITIVE_HEADERS}: what runs and DLQ rows may keep. */
export function captureHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!SENSITIVE_HEADERS.has(lower)) out[lower] = value;
  });
  return out;
}

/** A header value trimmed, or `null` when absent or blank. */
export function headerValue(headers: Readonly<Record<string, string>>, name: string): string | null {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

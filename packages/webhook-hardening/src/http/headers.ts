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
 * Signature headers of the built-in dialects. Their values are replaced by {@link REDACTED} in
 * what runs and DLQ rows keep: a valid signature stored next to its body could be replayed by
 * anyone who can read the row.
 */
export const SIGNATURE_HEADERS: ReadonlySet<string> = new Set([
  'x-hub-signature',
  'x-hub-signature-256',
  'x-signature',
  'stripe-signature',
  'calendly-webhook-signature',
  'x-slack-signature',
  'x-zm-signature',
  'x-shopify-hmac-sha256',
  'x-twilio-signature',
  'x-square-hmacsha256-signature',
  'x-square-signature',
  'linear-signature',
  'x-dropbox-signature',
]);

/** What a redacted header value reads as. */
export const REDACTED = '[redacted]';

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

/**
 * What runs and DLQ rows may keep: the request headers minus {@link SENSITIVE_HEADERS}, with the
 * values of {@link SIGNATURE_HEADERS} and of `alsoRedact` (a custom dialect's signature header,
 * lower-case) replaced by {@link REDACTED}.
 */
export function captureHeaders(headers: Headers, alsoRedact: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (SENSITIVE_HEADERS.has(lower)) return;
    out[lower] = SIGNATURE_HEADERS.has(lower) || alsoRedact.includes(lower) ? REDACTED : value;
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

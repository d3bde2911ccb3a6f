/** What replaces a secret in any response. */
export const REDACTED = '[redacted]';

/** Header names whose values are credentials or signatures. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-webhook-key',
  'x-api-key',
]);

/** Header names that look like they carry a signature, token or key. */
const SECRET_HEADER_PATTERN = /(signature|secret|token|api-?key|auth|password|session)/i;

/**
 * Setting and input names that hold secrets: webhook keys (`webhookHmacKey`,
 * `webhookPreviousHmacKey`, `webhookSecret`), passwords, tokens, credentials, private keys and
 * anything ending in `key` (`apiKey`, `signingKey`).
 */
export function isSecretName(name: string): boolean {
  return /(secret|password|passphrase|token|credential|private|hmac)/i.test(name) || /key$/i.test(name);
}

/** A header map with credential and signature values replaced by {@link REDACTED}. */
export function redactHeaders(
  headers: Readonly<Record<string, string>> | null,
): Readonly<Record<string, string>> | null {
  if (!headers) return headers;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    out[name] = SECRET_HEADERS.has(lower) || SECRET_HEADER_PATTERN.test(lower) ? REDACTED : value;
  }
  return out;
}

/** A settings object with secret-named fields replaced by {@link REDACTED} (one level deep). */
export function redactSettings(inputs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(inputs)) {
    out[name] = isSecretName(name) && value !== null && value !== '' ? REDACTED : value;
  }
  return out;
}

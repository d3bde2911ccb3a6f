import { encodeDigest } from './encoding.js';
import { hmac, keyBytes } from './hmac.js';
import { buildSignedPayload } from './signed-payload.js';
import type { CustomSignedPayloadStrategy, SignatureSpec } from './types.js';

/** What a publisher signs. */
export interface SignInput {
  /** Body bytes or text. */
  readonly body: Uint8Array | string;
  /** Unix seconds, for dialects that sign a timestamp. */
  readonly timestamp?: number | string;
  /** Request URL, for Twilio and Square. */
  readonly url?: string;
  /** Form fields, for Twilio. */
  readonly formFields?: ReadonlyArray<readonly [string, string]>;
  /** Custom payload strategies, for `payload: 'custom'` specs. */
  readonly strategies?: ReadonlyMap<string, CustomSignedPayloadStrategy>;
}

/**
 * Produces the headers a publisher using `spec` would send for `input`: the inverse of the
 * verifier, for local senders, tests and examples. Body-resident dialects (Mailgun) have no header;
 * use {@link signMailgun} for them.
 */
export function signWebhook(spec: SignatureSpec, key: string, input: SignInput): Record<string, string> {
  if (spec.payload === 'timestampPlusToken') {
    throw new TypeError('Body-resident dialects carry the signature in the body; use signMailgun.');
  }
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const timestamp = input.timestamp === undefined ? null : String(input.timestamp);
  const payload = buildSignedPayload(
    {
      body,
      headers: {},
      absoluteUrl: input.url ?? null,
      formFields: input.formFields ?? null,
      spec,
      key,
      previousKey: null,
      allowLegacySha1: true,
    },
    timestamp,
    input.strategies ?? new Map(),
  );
  if (!payload.ok) throw new TypeError(`Cannot sign for this dialect: ${payload.reason}.`);
  const secret = keyBytes(key, spec);
  if (!secret) throw new TypeError('The key is not valid for this dialect.');
  const digest = encodeDigest(hmac(spec.algorithm, secret, payload.bytes), spec.encoding);
  const headers: Record<string, string> = {};
  if (spec.multiValueDelimiter) {
    const sep = spec.keyValueSeparator ?? '=';
    const parts = [];
    if (spec.timestampValueKey && timestamp !== null)
      parts.push(`${spec.timestampValueKey}${sep}${timestamp}`);
    parts.push(`${spec.signatureValueKey ?? spec.acceptedVersions?.[0] ?? 'v1'}${sep}${digest}`);
    headers[spec.headerName] = (spec.headerValuePrefix ?? '') + parts.join(spec.multiValueDelimiter);
  } else {
    headers[spec.headerName] = (spec.headerValuePrefix ?? '') + (spec.prefix ?? '') + digest;
  }
  if (spec.timestampHeaderName && timestamp !== null) headers[spec.timestampHeaderName] = timestamp;
  return headers;
}

/** Mailgun's body-resident `signature` block for `timestamp` and `token`. */
export function signMailgun(
  key: string,
  timestamp: string,
  token: string,
): { timestamp: string; token: string; signature: string } {
  const signature = hmac('sha256', Buffer.from(key, 'utf8'), Buffer.from(timestamp + token, 'utf8'));
  return { timestamp, token, signature: signature.toString('hex') };
}

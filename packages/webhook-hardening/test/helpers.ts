import {
  BUILT_IN_SCHEMES,
  type SignatureSpec,
  type VerificationContext,
  type VerificationResult,
  verifyHmacSignature,
} from '../src/index.js';

/** A fixed flow id used across tests. */
export const FLOW_ID = '3f2b8c1e-7d4a-4e2b-9c1f-0a1b2c3d4e5f';

/** Looks up a built-in dialect by its canonical name. */
export function scheme(name: string): SignatureSpec {
  const spec = BUILT_IN_SCHEMES[name];
  if (!spec) throw new Error(`no dialect ${name}`);
  return spec;
}

/**
 * Verifies with sensible defaults; header names are lower-cased as the pipeline does. The clock
 * reads Unix 1 700 000 000 (the timestamp most vectors use) unless `extra.nowMs` says otherwise.
 */
export function verify(
  spec: SignatureSpec,
  key: string,
  body: string | Uint8Array,
  headers: Record<string, string> = {},
  extra: Partial<VerificationContext> = {},
): VerificationResult {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return verifyHmacSignature({
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: lower,
    absoluteUrl: null,
    formFields: null,
    spec,
    key,
    previousKey: null,
    allowLegacySha1: false,
    nowMs: 1_700_000_000_000,
    ...extra,
  });
}

/** A POST request to a test URL. */
export function post(
  body: string | Uint8Array,
  headers: Record<string, string> = {},
  url = 'https://hooks.example.test/webhooks/orders',
): Request {
  return new Request(url, { method: 'POST', body, headers });
}

/** Unix seconds of a date. */
export const unix = (date: Date): number => Math.floor(date.getTime() / 1000);

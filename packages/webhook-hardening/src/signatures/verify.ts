import { WebhookReason } from '../reasons.js';
import { extractCandidates } from './candidates.js';
import { constantTimeEqual, decodeDigest } from './encoding.js';
import { hmac, keyBytes } from './hmac.js';
import { buildSignedPayload } from './signed-payload.js';
import type {
  CustomSignedPayloadStrategy,
  SignatureSpec,
  VerificationContext,
  VerificationResult,
} from './types.js';

const fail = (reason: Extract<VerificationResult, { valid: false }>['reason']): VerificationResult => ({
  valid: false,
  reason,
});

/** Strategies whose signed bytes include the timestamp, so the timestamp is authenticated. */
const SIGNS_TIMESTAMP = new Set(['timestampDotBody', 'colonDelimited', 'timestampPlusToken']);

/**
 * Compares every candidate with the current and previous digests without short-circuiting, so
 * timing reveals neither which candidate nor which key matched. Undecodable candidates are skipped.
 */
function compareCandidates(
  spec: SignatureSpec,
  candidates: readonly string[],
  payload: Uint8Array,
  current: Uint8Array,
  previous: Uint8Array | null,
  timestamp: string | null,
): VerificationResult {
  const expected = hmac(spec.algorithm, current, payload);
  const expectedPrevious = previous ? hmac(spec.algorithm, previous, payload) : null;
  let matchedCurrent = false;
  let matchedPrevious = false;
  for (const candidate of candidates) {
    const digest = decodeDigest(candidate, spec.encoding);
    if (!digest) continue;
    matchedCurrent = constantTimeEqual(digest, expected) || matchedCurrent;
    if (expectedPrevious) matchedPrevious = constantTimeEqual(digest, expectedPrevious) || matchedPrevious;
  }
  const signedTimestamp = SIGNS_TIMESTAMP.has(spec.payload) ? timestamp : null;
  if (matchedCurrent) return { valid: true, usedPreviousKey: false, timestamp: signedTimestamp };
  if (matchedPrevious) return { valid: true, usedPreviousKey: true, timestamp: signedTimestamp };
  return fail(WebhookReason.digestMismatch);
}

/** Mailgun-style: the signature, timestamp and token sit in a `signature` object of the JSON body. */
function verifyBodyResident(
  context: VerificationContext,
  current: Uint8Array,
  previous: Uint8Array | null,
): VerificationResult {
  const spec = context.spec!;
  let root: unknown;
  try {
    root = JSON.parse(Buffer.from(context.body).toString('utf8'));
  } catch {
    return fail(WebhookReason.malformedHeader);
  }
  const block = (root as { signature?: unknown } | null)?.signature;
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    return fail(WebhookReason.malformedHeader);
  }
  const { timestamp, token, signature } = block as Record<string, unknown>;
  if (typeof timestamp !== 'string') return fail(WebhookReason.missingTimestamp);
  if (typeof token !== 'string') return fail(WebhookReason.malformedHeader);
  if (typeof signature !== 'string') return fail(WebhookReason.missingHeader);
  if (!decodeDigest(signature, spec.encoding)) return fail(WebhookReason.invalidEncoding);
  const payload = Buffer.from(timestamp + token, 'utf8');
  return compareCandidates(spec, [signature], payload, current, previous, timestamp);
}

/**
 * Verifies an HMAC-signed delivery against `context.spec`. Checks run in a fixed order and the
 * first failure wins: algorithm allowed → key present → (body-resident path) → header present →
 * header shape → timestamp → signed bytes → digest comparison against current and previous keys.
 */
export function verifyHmacSignature(
  context: VerificationContext,
  strategies: ReadonlyMap<string, CustomSignedPayloadStrategy> = new Map(),
): VerificationResult {
  const spec = context.spec;
  if (!spec) throw new TypeError('verifyHmacSignature needs a signature spec in the context.');
  if (spec.algorithm === 'sha1' && !context.allowLegacySha1) return fail(WebhookReason.algorithmNotAllowed);
  const current = context.key ? keyBytes(context.key, spec) : null;
  if (!current || current.byteLength === 0) return fail(WebhookReason.keyNotConfigured);
  const previous = context.previousKey ? keyBytes(context.previousKey, spec) : null;

  if (spec.payload === 'timestampPlusToken') return verifyBodyResident(context, current, previous);

  const extracted = extractCandidates(spec, context.headers);
  if (!extracted.ok) return fail(extracted.reason);
  let timestamp = extracted.timestamp;
  if (timestamp === null && spec.timestampHeaderName) {
    timestamp = context.headers[spec.timestampHeaderName.toLowerCase()]?.trim() || null;
  }
  if (spec.requireTimestamp && timestamp === null) return fail(WebhookReason.missingTimestamp);

  const payload = buildSignedPayload(context, timestamp, strategies);
  if (!payload.ok) return fail(payload.reason);
  return compareCandidates(spec, extracted.candidates, payload.bytes, current, previous, timestamp);
}

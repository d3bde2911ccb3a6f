import { createHash } from 'node:crypto';
import { DEFAULT_MAX_JSON_DEPTH, parseJsonBounded } from '../http/json.js';
import { WebhookReason } from '../reasons.js';
import { extractCandidates } from './candidates.js';
import { constantTimeEqual, decodeDigest } from './encoding.js';
import { checkFreshness, DEFAULT_FRESHNESS_SECONDS } from './freshness.js';
import { hmac, keyBytes } from './hmac.js';
import { buildSignedPayload } from './signed-payload.js';
import { twilioBodyHashMatches } from './twilio-body-hash.js';
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

/** Whether a dialect authenticates a timestamp (in its signed bytes or inside the signed body). */
export function signsTimestamp(spec: SignatureSpec): boolean {
  return (
    SIGNS_TIMESTAMP.has(spec.payload) || (spec.bodyTimestampField !== undefined && spec.payload === 'rawBody')
  );
}

const sha256Hex = (bytes: Uint8Array | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Compares every candidate with the current and previous digests without short-circuiting, so
 * timing reveals neither which candidate nor which key matched. Undecodable candidates are skipped.
 */
function matchCandidates(
  spec: SignatureSpec,
  candidates: readonly string[],
  payload: Uint8Array,
  current: Uint8Array,
  previous: Uint8Array | null,
): 'current' | 'previous' | null {
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
  return matchedCurrent ? 'current' : matchedPrevious ? 'previous' : null;
}

/** The timestamp a signed JSON body carries in `field` (Linear), as text; `null` when absent. */
function bodyTimestamp(context: VerificationContext, field: string): string | null {
  const parsed = parseJsonBounded(
    Buffer.from(context.body).toString('utf8'),
    context.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
  );
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return null;
  const value = (parsed.value as Record<string, unknown>)[field];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' ? value : null;
}

/**
 * Everything checked after the digest matched: Twilio's body hash, the freshness of a signed
 * timestamp, and the replay nonce (always from authenticated data).
 */
function afterMatch(
  context: VerificationContext,
  matched: 'current' | 'previous',
  signedTimestamp: string | null,
  nonceMaterial: string,
): VerificationResult {
  const spec = context.spec!;
  if (spec.payload === 'urlPlusSortedForm') {
    const isForm = context.formFields !== null;
    if (!twilioBodyHashMatches(context.absoluteUrl ?? '', context.body, isForm)) {
      return fail(WebhookReason.digestMismatch);
    }
  }
  let timestamp = signedTimestamp;
  if (timestamp === null && spec.bodyTimestampField && spec.payload === 'rawBody') {
    timestamp = bodyTimestamp(context, spec.bodyTimestampField);
    if (timestamp === null && spec.requireTimestamp) return fail(WebhookReason.missingTimestamp);
  }
  let timestampMs: number | null = null;
  if (timestamp !== null) {
    const window = context.freshnessSeconds ?? spec.freshnessSeconds ?? DEFAULT_FRESHNESS_SECONDS;
    const fresh = checkFreshness(
      timestamp,
      spec.timestampUnit ?? 'seconds',
      context.nowMs ?? Date.now(),
      window,
    );
    if (!fresh.ok) return fail(fresh.reason);
    timestampMs = fresh.timestampMs;
  }
  return {
    valid: true,
    usedPreviousKey: matched === 'previous',
    timestamp,
    timestampMs,
    nonce: nonceMaterial,
  };
}

/** Mailgun-style: the signature, timestamp and token sit in a `signature` object of the JSON body. */
function verifyBodyResident(
  context: VerificationContext,
  current: Uint8Array,
  previous: Uint8Array | null,
): VerificationResult {
  const spec = context.spec!;
  // The signature lives in the body, so this parse precedes verification; it is depth-bounded.
  const parsed = parseJsonBounded(
    Buffer.from(context.body).toString('utf8'),
    context.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH,
  );
  if (!parsed.ok) return fail(WebhookReason.malformedHeader);
  const block = (parsed.value as { signature?: unknown } | null)?.signature;
  if (typeof block !== 'object' || block === null || Array.isArray(block)) {
    return fail(WebhookReason.malformedHeader);
  }
  const { timestamp, token, signature } = block as Record<string, unknown>;
  if (typeof timestamp !== 'string') return fail(WebhookReason.missingTimestamp);
  if (typeof token !== 'string' || token === '') return fail(WebhookReason.malformedHeader);
  if (typeof signature !== 'string') return fail(WebhookReason.missingHeader);
  if (!decodeDigest(signature, spec.encoding)) return fail(WebhookReason.invalidEncoding);
  const payload = Buffer.from(timestamp + token, 'utf8');
  const matched = matchCandidates(spec, [signature], payload, current, previous);
  if (!matched) return fail(WebhookReason.digestMismatch);
  // Only timestamp and token are signed: the token is the one authenticated, unique value.
  return afterMatch(context, matched, timestamp, `token:${token}`);
}

/**
 * Verifies an HMAC-signed delivery against `context.spec`. Checks run in a fixed order and the
 * first failure wins: algorithm allowed → key present → (body-resident path) → header present →
 * header shape → timestamp present → signed bytes → digest comparison against current and previous
 * keys → Twilio body hash → freshness of a signed timestamp (whether or not replay protection is
 * on). A valid result carries a replay nonce built from the signed bytes only.
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
  if (spec.requireTimestamp && timestamp === null && !spec.bodyTimestampField) {
    return fail(WebhookReason.missingTimestamp);
  }

  const payload = buildSignedPayload(context, timestamp, strategies);
  if (!payload.ok) return fail(payload.reason);
  const matched = matchCandidates(spec, extracted.candidates, payload.bytes, current, previous);
  if (!matched) return fail(WebhookReason.digestMismatch);
  // A timestamp the signature does not cover is never trusted for freshness.
  const signedTimestamp = SIGNS_TIMESTAMP.has(spec.payload) ? timestamp : null;
  return afterMatch(context, matched, signedTimestamp, `signed:${sha256Hex(payload.bytes)}`);
}

import { headerValue } from '../http/headers.js';
import type { SignatureFailureReason } from '../reasons.js';
import { WebhookReason } from '../reasons.js';
import type { SignatureSpec } from './types.js';

/** Signature candidates and the timestamp found in the signature header. */
export type CandidateResult =
  | { readonly ok: true; readonly candidates: readonly string[]; readonly timestamp: string | null }
  | { readonly ok: false; readonly reason: SignatureFailureReason };

const startsWithIgnoreCase = (value: string, prefix: string): boolean =>
  value.slice(0, prefix.length).toLowerCase() === prefix.toLowerCase();

/** Splits `t=…,v1=…,v1=…` into signature candidates and the timestamp segment. */
function multiValueCandidates(value: string, spec: SignatureSpec): CandidateResult {
  const separator = spec.keyValueSeparator ?? '=';
  const accepted = spec.acceptedVersions ?? [];
  const candidates: string[] = [];
  let timestamp: string | null = null;
  const segments = value
    .split(spec.multiValueDelimiter!)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const segment of segments) {
    const at = segment.indexOf(separator);
    if (at <= 0) return { ok: false, reason: WebhookReason.malformedHeader };
    const key = segment.slice(0, at);
    const item = segment.slice(at + separator.length);
    if (spec.timestampValueKey !== undefined && key === spec.timestampValueKey) {
      timestamp = item; // the last timestamp segment wins
      continue;
    }
    // Unknown versions (Stripe's test-mode `v0`) are skipped, not fatal: a header may mix them.
    if (accepted.length > 0 && !accepted.includes(key)) continue;
    if (spec.signatureValueKey !== undefined && key !== spec.signatureValueKey) continue;
    candidates.push(item);
  }
  if (candidates.length === 0) return { ok: false, reason: WebhookReason.unsupportedVersion };
  return { ok: true, candidates, timestamp };
}

/**
 * Extracts signature candidates from the header named by the spec: strips the header-value prefix
 * (`HMAC `), then either splits a multi-valued header or strips the single value's prefix (`sha256=`).
 */
export function extractCandidates(
  spec: SignatureSpec,
  headers: Readonly<Record<string, string>>,
): CandidateResult {
  let value = spec.headerName ? headerValue(headers, spec.headerName) : null;
  if (value === null) return { ok: false, reason: WebhookReason.missingHeader };
  if (spec.headerValuePrefix) {
    if (!startsWithIgnoreCase(value, spec.headerValuePrefix)) {
      return { ok: false, reason: WebhookReason.malformedHeader };
    }
    value = value.slice(spec.headerValuePrefix.length).trim();
  }
  if (spec.multiValueDelimiter) return multiValueCandidates(value, spec);
  if (spec.prefix) {
    if (!startsWithIgnoreCase(value, spec.prefix))
      return { ok: false, reason: WebhookReason.malformedHeader };
    value = value.slice(spec.prefix.length);
  }
  return { ok: true, candidates: [value], timestamp: null };
}

import type { SignatureFailureReason } from '../reasons.js';
import { WebhookReason } from '../reasons.js';

/** Freshness window of a dialect that signs a timestamp but names none (seconds). */
export const DEFAULT_FRESHNESS_SECONDS = 300;

/** Outcome of {@link checkFreshness}. */
export type FreshnessResult =
  | { readonly ok: true; readonly timestampMs: number }
  | { readonly ok: false; readonly reason: SignatureFailureReason };

/**
 * Checks a signed timestamp against the clock: it must be a plain integer (seconds, or ms for
 * dialects such as Linear) within `windowSeconds` of `nowMs` in either direction; exactly the
 * window passes. This runs whether or not replay protection is configured: a year-old signed
 * delivery is stale whatever the nonce store says.
 */
export function checkFreshness(
  timestamp: string,
  unit: 'seconds' | 'milliseconds',
  nowMs: number,
  windowSeconds: number,
): FreshnessResult {
  const text = timestamp.trim();
  if (!/^\d{1,16}$/.test(text)) return { ok: false, reason: WebhookReason.invalidTimestamp };
  const timestampMs = unit === 'milliseconds' ? Number(text) : Number(text) * 1000;
  if (Math.abs(nowMs - timestampMs) > windowSeconds * 1000) {
    return { ok: false, reason: WebhookReason.skewExceeded };
  }
  return { ok: true, timestampMs };
}

import { createHash } from 'node:crypto';
import type { WebhookReplayStore } from '@floworch/core';
import { headerValue } from '../../http/headers.js';
import { WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import type { Gate, GateContext, GateRejection } from '../types.js';

/** Stores key nonces in a 256-character column; longer values are hashed to fit. */
function boundedNonce(nonce: string): string {
  return nonce.length <= 128 ? nonce : `h:${createHash('sha256').update(nonce, 'utf8').digest('hex')}`;
}

const reject = (reason: GateRejection['reason'], fields: Record<string, unknown> = {}): GateRejection => ({
  status: 409,
  reason,
  event: WebhookLogEvent.replayRejected,
  fields,
});

/**
 * Replay protection. It trusts only what the signature gate authenticated:
 * - the nonce is derived from the signed bytes (or Mailgun's signed token), never from a header a
 *   sender can change freely; a configured delivery-id header is registered *in addition*, so a
 *   redelivery under the same id is caught too, but a fresh id never makes an old body new;
 * - the timestamp is the signed one; an unsigned timestamp header is ignored. A dialect that signs
 *   no timestamp (GitHub) needs `allowMissingTimestamp`, and its nonce is then remembered for
 *   `2 × tolerance` from arrival — a replay after that is accepted (documented limit).
 * The signed timestamp must be within `toleranceSeconds` of now; nonces live until `2 × tolerance`
 * (at least twice the freshness window) after it. A failing store fails closed with 503.
 */
export function createReplayGate(store: WebhookReplayStore | null): Gate {
  return {
    name: 'replay',
    kind: 'security',
    async check(context) {
      const replay = context.security.replay;
      if (!replay || !store) return null;
      const { nonce, signedTimestampMs, freshnessSeconds } = context.shared;
      if (nonce === null) return reject(WebhookReason.missingTimestamp, { why: 'no authenticated nonce' });
      const nowMs = context.clock.now().getTime();
      let expiresAt: Date;
      const fields: Record<string, unknown> = {};
      if (signedTimestampMs === null) {
        if (!replay.allowMissingTimestamp) return reject(WebhookReason.missingTimestamp);
        expiresAt = new Date(nowMs + 2 * replay.toleranceSeconds * 1000);
      } else {
        const skewMs = Math.abs(nowMs - signedTimestampMs);
        fields.skewMs = skewMs;
        if (skewMs > replay.toleranceSeconds * 1000) return reject(WebhookReason.skewExceeded, fields);
        const keepSeconds = 2 * Math.max(replay.toleranceSeconds, freshnessSeconds ?? 0);
        expiresAt = new Date(signedTimestampMs + keepSeconds * 1000);
      }
      const first = await register(store, context, boundedNonce(nonce), expiresAt, fields);
      if (first) return first;
      const deliveryId = replay.nonceHeader ? headerValue(context.rawHeaders, replay.nonceHeader) : null;
      if (deliveryId === null) return null;
      return register(store, context, boundedNonce(`id:${deliveryId}`), expiresAt, fields);
    },
  };
}

/** Registers the nonce; a store failure fails closed with 503 so the publisher retries later. */
async function register(
  store: WebhookReplayStore,
  context: GateContext,
  nonce: string,
  expiresAt: Date,
  fields: Record<string, unknown>,
): Promise<GateRejection | null> {
  try {
    const fresh = await store.tryRegister(context.flowId, context.triggerKey, nonce, expiresAt);
    return fresh ? null : reject(WebhookReason.nonceSeen, fields);
  } catch (error) {
    return {
      status: 503,
      reason: WebhookReason.replayStoreUnavailable,
      headers: { 'Retry-After': '30' },
      event: WebhookLogEvent.replayStoreFailed,
      error,
    };
  }
}

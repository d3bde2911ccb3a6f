import { createHash } from 'node:crypto';
import type { WebhookReplayStore } from '@floworch/core';
import { headerValue } from '../../http/headers.js';
import { WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import { defaultNonce } from '../../replay/nonce.js';
import type { Gate, GateContext, GateRejection } from '../types.js';

/** Headers searched for a timestamp after the configured one, in order. */
const FALLBACK_TIMESTAMP_HEADERS = [
  'x-webhook-timestamp',
  'x-slack-request-timestamp',
  'x-zm-request-timestamp',
];

/**
 * The delivery's timestamp: the one the signature authenticated (Stripe `t=`, Slack/Zoom header,
 * Mailgun body) when there is one, else the configured header, else the well-known ones.
 */
export function findTimestamp(context: GateContext): string | null {
  if (context.shared.signedTimestamp) return context.shared.signedTimestamp.trim();
  const replay = context.security.replay!;
  const spec = context.security.signature?.kind === 'hmac' ? context.security.signature.spec : null;
  const configured = replay.timestampHeader ?? spec?.timestampHeaderName ?? null;
  for (const name of configured ? [configured, ...FALLBACK_TIMESTAMP_HEADERS] : FALLBACK_TIMESTAMP_HEADERS) {
    const value = headerValue(context.rawHeaders, name);
    if (value !== null) return value;
  }
  return null;
}

/** Stores key nonces in a 256-character column; longer publisher ids are hashed to fit. */
function boundedNonce(nonce: string): string {
  return nonce.length <= 128 ? nonce : createHash('sha256').update(nonce, 'utf8').digest('hex');
}

const reject = (reason: GateRejection['reason'], fields: Record<string, unknown> = {}): GateRejection => ({
  status: 409,
  reason,
  event: WebhookLogEvent.replayRejected,
  fields,
});

/**
 * Replay protection: the timestamp must be integer Unix seconds within `toleranceSeconds` of now
 * (either direction; exactly the tolerance passes), and the nonce (the configured delivery-id
 * header, else a hash of timestamp and body) must be new for the trigger. Nonces expire
 * `2 × tolerance` after the publisher's timestamp, by when a re-send is stale anyway.
 * If the store fails, the gate fails closed with 503 so the publisher retries later.
 */
export function createReplayGate(store: WebhookReplayStore | null): Gate {
  return {
    name: 'replay',
    kind: 'security',
    async check(context) {
      const replay = context.security.replay;
      if (!replay || !store) return null;
      const timestamp = findTimestamp(context);
      const deliveryId = replay.nonceHeader ? headerValue(context.rawHeaders, replay.nonceHeader) : null;
      if (timestamp === null) {
        if (!replay.allowMissingTimestamp || deliveryId === null)
          return reject(WebhookReason.missingTimestamp);
        const expiresAt = new Date(context.clock.now().getTime() + 2 * replay.toleranceSeconds * 1000);
        return register(store, context, boundedNonce(deliveryId), expiresAt, {});
      }
      if (!/^-?\d{1,15}$/.test(timestamp)) return reject(WebhookReason.invalidTimestamp);
      const seconds = Number(timestamp);
      const skewMs = Math.abs(context.clock.now().getTime() - seconds * 1000);
      if (skewMs > replay.toleranceSeconds * 1000) return reject(WebhookReason.skewExceeded, { skewMs });
      const nonce = boundedNonce(deliveryId ?? defaultNonce(timestamp, context.body));
      const expiresAt = new Date((seconds + 2 * replay.toleranceSeconds) * 1000);
      return register(store, context, nonce, expiresAt, { skewMs });
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

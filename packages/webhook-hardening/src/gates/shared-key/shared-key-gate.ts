import { headerValue } from '../../http/headers.js';
import { WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import { constantTimeEqual } from '../../signatures/encoding.js';
import type { Gate } from '../types.js';

/**
 * The key a caller supplied: `X-Webhook-Key`, else `Authorization` with any `Bearer ` (any case)
 * removed. Exported for tests and for hosts that check keys elsewhere.
 */
export function suppliedSharedKey(rawHeaders: Readonly<Record<string, string>>): string | null {
  const explicit = headerValue(rawHeaders, 'x-webhook-key');
  if (explicit !== null) return explicit;
  const authorization = headerValue(rawHeaders, 'authorization');
  if (authorization === null) return null;
  const key = authorization.replace(/bearer /gi, '').trim();
  return key === '' ? null : key;
}

/**
 * The v1.24 shared secret: when a trigger sets one, callers must present it. It applies in every
 * mode (it predates the hardening modes) and is compared in constant time, case-sensitively.
 * It runs before the signature and replay gates so a caller without the key cannot burn a nonce.
 */
export const sharedKeyGate: Gate = {
  name: 'shared-key',
  kind: 'always',
  async check({ security, rawHeaders }) {
    if (!security.sharedSecret) return null;
    const supplied = suppliedSharedKey(rawHeaders);
    const ok =
      supplied !== null &&
      constantTimeEqual(Buffer.from(supplied, 'utf8'), Buffer.from(security.sharedSecret, 'utf8'));
    if (ok) return null;
    return {
      status: 401,
      reason: WebhookReason.sharedKeyInvalid,
      event: WebhookLogEvent.secretInvalid,
      fields: { supplied: supplied !== null },
    };
  },
};

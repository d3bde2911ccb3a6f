import { createHash } from 'node:crypto';
import { headerValue } from '../../http/headers.js';
import { WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import { constantTimeEqual } from '../../signatures/encoding.js';
import type { Gate } from '../types.js';

/**
 * The key a caller supplied: `X-Webhook-Key`, else `Authorization` with a leading `Bearer ` (any
 * case) removed; the rest of the value is kept as written. Exported for tests and for hosts that
 * check keys elsewhere.
 */
export function suppliedSharedKey(rawHeaders: Readonly<Record<string, string>>): string | null {
  const explicit = headerValue(rawHeaders, 'x-webhook-key');
  if (explicit !== null) return explicit;
  const authorization = headerValue(rawHeaders, 'authorization');
  if (authorization === null) return null;
  const key = authorization.replace(/^bearer\s+/i, '').trim();
  return key === '' ? null : key;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

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
    // Comparing fixed-length digests keeps the secret's length out of the timing.
    const ok = supplied !== null && constantTimeEqual(digest(supplied), digest(security.sharedSecret));
    if (ok) return null;
    return {
      status: 401,
      reason: WebhookReason.sharedKeyInvalid,
      event: WebhookLogEvent.secretInvalid,
      fields: { supplied: supplied !== null },
    };
  },
};

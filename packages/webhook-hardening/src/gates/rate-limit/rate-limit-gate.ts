import { WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import type { Gate } from '../types.js';
import { rateLimitClientKey } from './client-key.js';
import type { WebhookRateLimiter } from './token-bucket.js';

/**
 * Token-bucket limit per flow, or per flow and client address with `perIp` (IPv6 per /64). Refusals answer 429
 * with `Retry-After` in whole seconds (at least 1). It runs before the signature check so floods
 * are shed before any HMAC work, which also means unauthenticated traffic spends tokens.
 */
export function createRateLimitGate(limiter: WebhookRateLimiter): Gate {
  return {
    name: 'rate-limit',
    kind: 'security',
    async check({ security, flowId, clientIp }) {
      const policy = security.rateLimit;
      if (!policy) return null;
      const key = policy.perIp && clientIp ? `${flowId}|${rateLimitClientKey(clientIp)}` : flowId;
      const decision = await limiter.tryAcquire(key, policy);
      if (decision.allowed) return null;
      const retryAfterSeconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      return {
        status: 429,
        reason: WebhookReason.rateLimited,
        headers: { 'Retry-After': String(retryAfterSeconds) },
        event: WebhookLogEvent.rateLimited,
        fields: { clientKey: key, retryAfterMs: decision.retryAfterMs },
      };
    },
  };
}

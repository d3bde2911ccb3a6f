import { WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import type { Gate } from '../types.js';

/**
 * Allow/deny by client address. With an allow list, only matching addresses pass; a list that
 * exists but holds no valid entry refuses everyone (fail closed). The deny list then removes
 * matching addresses. An unknown client address never matches either list.
 */
export const ipGate: Gate = {
  name: 'ip',
  kind: 'security',
  async check({ security, clientIp }) {
    const { allowList, denyList } = security;
    const refuse = (reason: typeof WebhookReason.allowlistMiss | typeof WebhookReason.denylistHit) => ({
      status: 403,
      reason,
      event: WebhookLogEvent.ipDenied,
      fields: { clientIp: clientIp ?? '(unknown)' },
    });
    if (allowList && !allowList.matches(clientIp)) return refuse(WebhookReason.allowlistMiss);
    if (denyList?.matches(clientIp)) return refuse(WebhookReason.denylistHit);
    return null;
  },
};

import type { SignatureSpec } from '../types.js';
import { bareHex } from './shapes.js';

/**
 * Linear: `Linear-Signature: <hex HMAC-SHA256 of the body>`. The signed JSON body carries
 * `webhookTimestamp` in Unix milliseconds; Linear asks receivers to refuse deliveries more than a
 * minute old, so that is the default freshness window.
 */
export const linear: SignatureSpec = {
  ...bareHex('Linear-Signature'),
  bodyTimestampField: 'webhookTimestamp',
  timestampUnit: 'milliseconds',
  requireTimestamp: true,
  freshnessSeconds: 60,
};

import { createHash } from 'node:crypto';

/**
 * The nonce used when the publisher sends no delivery id: upper-case hex SHA-256 of the timestamp
 * text followed by the body bytes. Identical re-sends collide; any change to either does not.
 */
export function defaultNonce(timestamp: string, body: Uint8Array): string {
  return createHash('sha256').update(timestamp, 'utf8').update(body).digest('hex').toUpperCase();
}

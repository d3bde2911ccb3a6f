import { createHash } from 'node:crypto';

/**
 * The nonce of a delivery whose bring-your-own verifier names none: upper-case hex SHA-256 of the
 * signed timestamp text followed by the body bytes. Identical re-sends collide; any change to
 * either does not. Built-in dialects derive theirs from the signed bytes instead.
 */
export function defaultNonce(timestamp: string, body: Uint8Array): string {
  return createHash('sha256').update(timestamp, 'utf8').update(body).digest('hex').toUpperCase();
}

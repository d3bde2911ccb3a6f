import { createHmac } from 'node:crypto';
import { decodeBase64Strict } from './encoding.js';
import type { HmacAlgorithm, SignatureSpec } from './types.js';

/**
 * The HMAC key bytes of a secret: its UTF-8 bytes, or its base64 decoding for dialects that hand
 * out a base64 token (Microsoft Teams). `null` when a base64 secret does not decode.
 */
export function keyBytes(secret: string, spec: Pick<SignatureSpec, 'keyEncoding'>): Buffer | null {
  if (spec.keyEncoding === 'base64') return decodeBase64Strict(secret.trim());
  return Buffer.from(secret, 'utf8');
}

/** HMAC of `payload` under `key`. */
export function hmac(algorithm: HmacAlgorithm, key: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac(algorithm, key).update(payload).digest();
}

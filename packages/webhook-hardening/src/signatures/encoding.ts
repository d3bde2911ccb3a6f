import { timingSafeEqual } from 'node:crypto';
import type { DigestEncoding } from './types.js';

const HEX = /^[0-9a-fA-F]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes standard base64 strictly: alphabet, padding, length, and canonical form (unused trailing
 * bits must be zero), so one digest has exactly one accepted spelling. `null` when invalid.
 */
export function decodeBase64Strict(text: string): Buffer | null {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/**
 * Decodes a candidate digest; `null` when it is blank or not valid in `encoding`. Hex is accepted
 * in either case whatever the declared case, since case carries no information.
 */
export function decodeDigest(text: string, encoding: DigestEncoding): Buffer | null {
  if (text.trim() === '') return null;
  switch (encoding) {
    case 'hexLower':
    case 'hexUpper':
      return text.length % 2 === 0 && HEX.test(text) ? Buffer.from(text, 'hex') : null;
    case 'base64':
      return decodeBase64Strict(text);
    case 'base64Url': {
      if (text.length % 4 === 1 || /[+/]/.test(text)) return null;
      const unpadded = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
      return decodeBase64Strict(unpadded.padEnd(Math.ceil(unpadded.length / 4) * 4, '='));
    }
  }
}

/** Encodes a digest as a publisher would write it (used by tests and signing helpers). */
export function encodeDigest(digest: Uint8Array, encoding: DigestEncoding): string {
  const buf = Buffer.from(digest);
  switch (encoding) {
    case 'hexLower':
      return buf.toString('hex');
    case 'hexUpper':
      return buf.toString('hex').toUpperCase();
    case 'base64':
      return buf.toString('base64');
    case 'base64Url':
      return buf.toString('base64url');
  }
}

/**
 * Constant-time equality. Lengths are not secret (every digest of one algorithm has the same
 * length), so unequal lengths return `false` early; `timingSafeEqual` would throw on them.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

import type { SignatureSpec } from '../types.js';

/**
 * Mailgun: no header; the JSON body carries `signature: { timestamp, token, signature }` where
 * `signature` is the hex HMAC-SHA256 of `timestamp + token`.
 */
export const mailgun: SignatureSpec = {
  headerName: '',
  algorithm: 'sha256',
  encoding: 'hexLower',
  payload: 'timestampPlusToken',
  requireTimestamp: true,
};

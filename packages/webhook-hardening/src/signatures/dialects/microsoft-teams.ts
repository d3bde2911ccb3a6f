import type { SignatureSpec } from '../types.js';

/**
 * Microsoft Teams outgoing webhooks: `Authorization: HMAC <base64 HMAC-SHA256 of the body>`. The
 * key is the **base64-decoded** security token Teams shows when the webhook is created (the
 * reference used the token's text as the key and never matched a real Teams request).
 */
export const microsoftTeams: SignatureSpec = {
  headerName: 'Authorization',
  algorithm: 'sha256',
  encoding: 'base64',
  headerValuePrefix: 'HMAC ',
  payload: 'rawBody',
  keyEncoding: 'base64',
};

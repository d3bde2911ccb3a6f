import type { SignatureSpec } from '../types.js';

/**
 * Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1>` over the request URL followed by every form
 * field as key+value in key order. SHA-1 is Twilio's only option, so it needs `allowLegacySha1`.
 */
export const twilio: SignatureSpec = {
  headerName: 'X-Twilio-Signature',
  algorithm: 'sha1',
  encoding: 'base64',
  payload: 'urlPlusSortedForm',
};

import type { SignatureSpec } from '../types.js';

/** Square: `X-Square-HmacSha256-Signature: <base64>` over the notification URL followed by the body. */
export const square: SignatureSpec = {
  headerName: 'X-Square-HmacSha256-Signature',
  algorithm: 'sha256',
  encoding: 'base64',
  payload: 'urlPlusBody',
};

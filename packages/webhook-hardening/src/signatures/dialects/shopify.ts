import type { SignatureSpec } from '../types.js';

/** Shopify: `X-Shopify-Hmac-SHA256: <base64 HMAC-SHA256 of the body>`. */
export const shopify: SignatureSpec = {
  headerName: 'X-Shopify-Hmac-SHA256',
  algorithm: 'sha256',
  encoding: 'base64',
  payload: 'rawBody',
};

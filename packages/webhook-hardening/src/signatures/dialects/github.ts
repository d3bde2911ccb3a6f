import type { SignatureSpec } from '../types.js';
import { hubSignature } from './shapes.js';

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export const github: SignatureSpec = hubSignature('X-Hub-Signature-256');

/** GitHub's older SHA-1 header; honoured only with `allowLegacySha1`. */
export const githubLegacy: SignatureSpec = {
  headerName: 'X-Hub-Signature',
  algorithm: 'sha1',
  encoding: 'hexLower',
  prefix: 'sha1=',
  payload: 'rawBody',
};

import type { SignatureSpec } from '../types.js';
import { bareHex } from './shapes.js';

/** Dropbox: `X-Dropbox-Signature: <hex HMAC-SHA256 of the body>` (key: the app secret). */
export const dropbox: SignatureSpec = bareHex('X-Dropbox-Signature');

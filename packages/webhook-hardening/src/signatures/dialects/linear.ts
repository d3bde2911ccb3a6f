import type { SignatureSpec } from '../types.js';
import { bareHex } from './shapes.js';

/** Linear: `Linear-Signature: <hex HMAC-SHA256 of the body>`. */
export const linear: SignatureSpec = bareHex('Linear-Signature');

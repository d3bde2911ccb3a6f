import type { SignatureSpec } from '../types.js';
import { hubSignature } from './shapes.js';

/** A neutral default for in-house senders: `X-Signature: sha256=<hex>` over the body. */
export const generic: SignatureSpec = hubSignature('X-Signature');

import type { SignatureSpec } from '../types.js';
import { timestampedMultiValue } from './shapes.js';

/** Stripe: `Stripe-Signature: t=<ts>,v1=<hex>` over `<ts>.<body>`; `v0` test signatures are ignored. */
export const stripe: SignatureSpec = timestampedMultiValue('Stripe-Signature');

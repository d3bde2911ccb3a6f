import type { SignatureSpec } from '../types.js';
import { timestampedMultiValue } from './shapes.js';

/** Calendly: Stripe's format in `Calendly-Webhook-Signature`. */
export const calendly: SignatureSpec = timestampedMultiValue('Calendly-Webhook-Signature');

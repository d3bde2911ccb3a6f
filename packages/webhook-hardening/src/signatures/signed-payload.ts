import type { SignatureFailureReason } from '../reasons.js';
import { WebhookReason } from '../reasons.js';
import type { CustomSignedPayloadStrategy, VerificationContext } from './types.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Result of building the signed bytes. */
export type SignedPayloadResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly reason: SignatureFailureReason };

const ordinal = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Twilio's construction: the URL, then each form field as name+value, sorted by name and then by
 * value (ordinal), as Twilio's SDKs do, so repeated fields sign the same whatever their order.
 */
function urlPlusSortedForm(url: string, fields: ReadonlyArray<readonly [string, string]> | null): string {
  const sorted = [...(fields ?? [])].sort(([ka, va], [kb, vb]) => ordinal(ka, kb) || ordinal(va, vb));
  return url + sorted.map(([k, v]) => k + v).join('');
}

/**
 * Builds the bytes the publisher signed, per the spec's strategy. `timestamp` is what the header
 * parsing found (if anything). The body-resident `timestampPlusToken` strategy is handled by the
 * verifier before this point, so reaching it here is a malformed set-up.
 */
export function buildSignedPayload(
  context: VerificationContext,
  timestamp: string | null,
  strategies: ReadonlyMap<string, CustomSignedPayloadStrategy>,
): SignedPayloadResult {
  const spec = context.spec!;
  const body = Buffer.from(context.body.buffer, context.body.byteOffset, context.body.byteLength);
  switch (spec.payload) {
    case 'rawBody':
      return { ok: true, bytes: body };
    case 'timestampDotBody':
      if (timestamp === null) return { ok: false, reason: WebhookReason.missingTimestamp };
      return { ok: true, bytes: Buffer.concat([utf8(timestamp + (spec.payloadDelimiter ?? '.')), body]) };
    case 'colonDelimited': {
      if (timestamp === null) return { ok: false, reason: WebhookReason.missingTimestamp };
      if (!spec.payloadVersion) return { ok: false, reason: WebhookReason.malformedHeader };
      const d = spec.payloadDelimiter ?? ':';
      return { ok: true, bytes: Buffer.concat([utf8(spec.payloadVersion + d + timestamp + d), body]) };
    }
    case 'urlPlusSortedForm':
      if (!context.absoluteUrl) return { ok: false, reason: WebhookReason.absoluteUrlRequired };
      return { ok: true, bytes: utf8(urlPlusSortedForm(context.absoluteUrl, context.formFields)) };
    case 'urlPlusBody':
      if (!context.absoluteUrl) return { ok: false, reason: WebhookReason.absoluteUrlRequired };
      return { ok: true, bytes: Buffer.concat([utf8(context.absoluteUrl), body]) };
    case 'custom': {
      const strategy = spec.customStrategyName ? strategies.get(spec.customStrategyName) : undefined;
      if (!strategy) return { ok: false, reason: WebhookReason.malformedHeader };
      const produced = strategy({ ...context, timestamp });
      return { ok: true, bytes: typeof produced === 'string' ? utf8(produced) : produced };
    }
    default:
      return { ok: false, reason: WebhookReason.malformedHeader };
  }
}

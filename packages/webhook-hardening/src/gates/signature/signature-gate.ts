import { emitLog, WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import { defaultNonce } from '../../replay/nonce.js';
import { checkFreshness, DEFAULT_FRESHNESS_SECONDS } from '../../signatures/freshness.js';
import type {
  CustomSignedPayloadStrategy,
  VerificationContext,
  VerificationResult,
} from '../../signatures/types.js';
import { verifyHmacSignature } from '../../signatures/verify.js';
import type { Gate, GateContext } from '../types.js';

/**
 * A bring-your-own verifier may return a signed timestamp without checking its age: apply the
 * freshness window to it here, and derive a nonce when it names none.
 */
function completeVerifierResult(
  result: VerificationResult,
  context: GateContext,
  window: number,
): VerificationResult {
  if (!result.valid) return result;
  let timestampMs = result.timestampMs ?? null;
  if (result.timestamp !== null && timestampMs === null) {
    const fresh = checkFreshness(result.timestamp, 'seconds', context.clock.now().getTime(), window);
    if (!fresh.ok) return { valid: false, reason: fresh.reason };
    timestampMs = fresh.timestampMs;
  }
  const nonce = result.nonce ?? `byo:${defaultNonce(result.timestamp ?? '', context.body)}`;
  return { ...result, timestampMs, nonce };
}

/**
 * Verifies the delivery's signature with the trigger's dialect (or bring-your-own verifier),
 * including the freshness of a signed timestamp, whether or not replay protection is on.
 * A match on the previous key passes but is logged, so operators know when a rotation is done.
 * The authenticated timestamp and nonce are handed to the replay gate.
 */
export function createSignatureGate(
  strategies: ReadonlyMap<string, CustomSignedPayloadStrategy>,
  allowLegacySha1: boolean,
  maxJsonDepth: number,
): Gate {
  return {
    name: 'signature',
    kind: 'security',
    async check(context) {
      const signature = context.security.signature;
      if (!signature) return null;
      const spec = signature.kind === 'hmac' ? signature.spec : null;
      const window = signature.freshnessSeconds ?? spec?.freshnessSeconds ?? DEFAULT_FRESHNESS_SECONDS;
      const verification: VerificationContext = {
        body: context.body,
        headers: context.rawHeaders,
        absoluteUrl: context.absoluteUrl,
        formFields: context.formFields,
        spec,
        key: signature.key ?? '',
        previousKey: signature.previousKey,
        allowLegacySha1,
        nowMs: context.clock.now().getTime(),
        freshnessSeconds: window,
        maxJsonDepth,
      };
      let result: VerificationResult;
      if (signature.kind === 'hmac') {
        result = verifyHmacSignature(verification, strategies);
      } else {
        result = completeVerifierResult(await signature.verifier.verify(verification), context, window);
      }
      const fields = { scheme: signature.schemeName };
      if (!result.valid) {
        return {
          status: 401,
          reason: result.reason || WebhookReason.signatureInvalid,
          event: WebhookLogEvent.signatureRejected,
          fields,
        };
      }
      if (result.usedPreviousKey) {
        emitLog(
          context.logger,
          WebhookLogEvent.secretRotationUsedPrevious,
          'Webhook signature matched the previous key; finish the key rotation.',
          { flowId: context.flowId, triggerKey: context.triggerKey, ...fields },
        );
      }
      context.shared.signedTimestampMs = result.timestampMs ?? null;
      context.shared.freshnessSeconds = window;
      context.shared.nonce = result.nonce ?? null;
      return null;
    },
  };
}

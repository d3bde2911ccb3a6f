import { emitLog, WebhookLogEvent } from '../../observability/log-events.js';
import { WebhookReason } from '../../reasons.js';
import type {
  CustomSignedPayloadStrategy,
  VerificationContext,
  VerificationResult,
} from '../../signatures/types.js';
import { verifyHmacSignature } from '../../signatures/verify.js';
import type { Gate } from '../types.js';

/**
 * Verifies the delivery's signature with the trigger's dialect (or bring-your-own verifier).
 * A match on the previous key passes but is logged, so operators know when a rotation is done.
 * The authenticated timestamp, if the dialect signs one, is handed to the replay gate.
 */
export function createSignatureGate(
  strategies: ReadonlyMap<string, CustomSignedPayloadStrategy>,
  allowLegacySha1: boolean,
): Gate {
  return {
    name: 'signature',
    kind: 'security',
    async check(context) {
      const signature = context.security.signature;
      if (!signature) return null;
      const verification: VerificationContext = {
        body: context.body,
        headers: context.rawHeaders,
        absoluteUrl: context.absoluteUrl,
        formFields: context.formFields,
        spec: signature.kind === 'hmac' ? signature.spec : null,
        key: signature.key ?? '',
        previousKey: signature.previousKey,
        allowLegacySha1,
      };
      let result: VerificationResult;
      if (signature.kind === 'hmac') {
        result = verifyHmacSignature(verification, strategies);
      } else {
        result = await signature.verifier.verify(verification);
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
      context.shared.signedTimestamp = result.timestamp;
      return null;
    },
  };
}

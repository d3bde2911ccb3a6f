import { type CompiledTriggerSecurity, compileTriggerSecurity } from './config/compile-trigger.js';
import {
  type ResolvedWebhookOptions,
  resolveWebhookOptions,
  type WebhookSecurityOptions,
} from './config/options.js';
import type { WebhookTriggerSecurity } from './config/trigger-security.js';
import type { WebhookDecision, WebhookRejectDecision } from './decision.js';
import { DeliveryRecorder, type DeliveryRow } from './dlq/recorder.js';
import { ipGate } from './gates/ip/ip-gate.js';
import { createRateLimitGate } from './gates/rate-limit/rate-limit-gate.js';
import { createReplayGate } from './gates/replay/replay-gate.js';
import { sharedKeyGate } from './gates/shared-key/shared-key-gate.js';
import { createSignatureGate } from './gates/signature/signature-gate.js';
import type { Gate, GateContext, GateRejection } from './gates/types.js';
import { readBodyWithCap } from './http/body.js';
import { resolveClientIp } from './http/client-ip.js';
import { allHeaders, captureHeaders } from './http/headers.js';
import { decodePayload } from './http/payload.js';
import { emitLog, WebhookLogEvent } from './observability/log-events.js';
import { WebhookMetricName } from './observability/metrics.js';
import { WebhookReason } from './reasons.js';

/** The trigger a request is aimed at. */
export interface WebhookTarget {
  /** Flow id. */
  readonly flowId: string;
  /** Trigger key within the flow. */
  readonly triggerKey: string;
  /** The trigger's security settings (compiled once per object and cached). */
  readonly security: WebhookTriggerSecurity;
}

/** Connection facts a Fetch `Request` does not carry. */
export interface ConnectionInfo {
  /** The socket's remote address (e.g. `req.socket.remoteAddress` in `node:http`). */
  readonly remoteAddress?: string | null;
}

/** Verifies, throttles and records inbound webhook deliveries. */
export interface WebhookPipeline {
  /** The validated options. */
  readonly options: ResolvedWebhookOptions;
  /**
   * Validates a trigger's settings now (call it at start-up) and caches the result for the object.
   * Throws {@link WebhookConfigError} listing every problem.
   */
  compile(security: WebhookTriggerSecurity, where?: string): CompiledTriggerSecurity;
  /**
   * Reads the request (body cap, payload decoding), runs the gates in order — IP, rate limit,
   * shared key, signature, replay — and records the outcome. Never throws for a bad request; a
   * trigger with invalid settings throws {@link WebhookConfigError}.
   */
  evaluate(request: Request, target: WebhookTarget, connection?: ConnectionInfo): Promise<WebhookDecision>;
}

/**
 * Builds a pipeline. Options are validated immediately: an invalid option throws here, at
 * start-up, rather than on the first delivery.
 *
 * @example
 * const pipeline = createWebhookPipeline({ mode: 'enforce', replayStore, rejectionStore });
 * const decision = await pipeline.evaluate(request, { flowId, triggerKey: 'webhook', security });
 */
export function createWebhookPipeline(options: WebhookSecurityOptions = {}): WebhookPipeline {
  const resolved = resolveWebhookOptions(options);
  const { clock, logger, metrics, mode } = resolved;
  const recorder = new DeliveryRecorder(resolved.rejectionStore, logger, resolved.recordAccepted);
  // Cheap, unauthenticated checks first; the shared key precedes signature and replay so that a
  // caller without it burns neither HMAC work nor a nonce.
  const gates: readonly Gate[] = [
    ipGate,
    createRateLimitGate(resolved.rateLimiter),
    sharedKeyGate,
    createSignatureGate(resolved.customStrategies, resolved.allowLegacySha1),
    createReplayGate(resolved.replayStore),
  ];
  const compiled = new WeakMap<WebhookTriggerSecurity, CompiledTriggerSecurity>();

  function compile(security: WebhookTriggerSecurity, where?: string): CompiledTriggerSecurity {
    let result = compiled.get(security);
    if (!result) {
      result = compileTriggerSecurity(security, resolved, where);
      compiled.set(security, result);
    }
    return result;
  }

  async function evaluate(
    request: Request,
    target: WebhookTarget,
    connection: ConnectionInfo = {},
  ): Promise<WebhookDecision> {
    const started = performance.now();
    const security = compile(
      target.security,
      `security of trigger '${target.triggerKey}' of flow ${target.flowId}`,
    );
    const receivedAt = clock.now();
    const headers = captureHeaders(request.headers);
    const clientIp = resolveClientIp(
      request.headers,
      connection.remoteAddress,
      resolved.forwardedHeaderDepth,
    );
    const scheme = security.signature?.schemeName ?? null;
    const flowTag = { flow: target.flowId };
    const row = (body: Uint8Array, bodyBytes = body.byteLength): DeliveryRow => ({
      flowId: target.flowId,
      triggerKey: target.triggerKey,
      receivedAt,
      remoteIp: clientIp,
      bodyBytes,
      body,
      headers,
      scheme: mode === 'off' ? null : scheme,
      processingMs: performance.now() - started,
    });

    const finish = (result: 'off' | 'accepted' | 'rejected', bodyBytes: number): void => {
      metrics.increment(WebhookMetricName.received, { ...flowTag, result, scheme: scheme ?? '(none)' });
      metrics.observe(WebhookMetricName.bodyBytes, bodyBytes, flowTag);
      metrics.observe(WebhookMetricName.processingMs, performance.now() - started, { ...flowTag, result });
    };

    const refuse = async (rejection: GateRejection, body: Uint8Array, bodyBytes: number) => {
      emitLog(
        logger,
        rejection.event,
        `Webhook delivery refused: ${rejection.reason}.`,
        {
          flowId: target.flowId,
          triggerKey: target.triggerKey,
          reason: rejection.reason,
          ...rejection.fields,
        },
        rejection.error,
      );
      metrics.increment(WebhookMetricName.rejected, { ...flowTag, reason: rejection.reason });
      await recorder.rejected(row(body, bodyBytes), rejection.reason, rejection.status);
    };

    const rejectNow = async (
      rejection: GateRejection,
      body: Uint8Array,
      bodyBytes = body.byteLength,
    ): Promise<WebhookRejectDecision> => {
      await refuse(rejection, body, bodyBytes);
      finish('rejected', bodyBytes);
      return {
        outcome: 'reject',
        status: rejection.status,
        reason: rejection.reason,
        headers: rejection.headers ?? {},
      };
    };

    // The body cap and payload decoding apply in every mode: nothing downstream can use them.
    const read = await readBodyWithCap(request, resolved.maxBodyBytes);
    if (!read.ok) {
      return rejectNow(
        {
          status: 413,
          reason: WebhookReason.payloadTooLarge,
          event: WebhookLogEvent.payloadTooLarge,
          fields: { bytes: read.bytesSeen, cap: resolved.maxBodyBytes },
        },
        new Uint8Array(0),
        read.bytesSeen,
      );
    }
    const body = read.bytes;
    const payload = decodePayload(body, request.headers.get('content-type'));
    if (!payload) {
      return rejectNow(
        { status: 400, reason: WebhookReason.invalidPayload, event: WebhookLogEvent.invalidPayload },
        body,
      );
    }

    const context: GateContext = {
      flowId: target.flowId,
      triggerKey: target.triggerKey,
      security,
      body,
      rawHeaders: allHeaders(request.headers),
      absoluteUrl: safeUrl(() => resolved.resolveUrl(request)),
      formFields: payload.formFields,
      clientIp,
      clock,
      logger,
      shared: { signedTimestamp: null },
    };

    let auditFailure: GateRejection | null = null;
    for (const gate of gates) {
      if (gate.kind === 'security' && (mode === 'off' || auditFailure)) continue;
      const rejection = await gate.check(context);
      if (!rejection) continue;
      if (gate.kind === 'always' || mode === 'enforce') return rejectNow(rejection, body);
      // Audit: record what Enforce would have refused, then let the delivery through.
      await refuse(rejection, body, body.byteLength);
      auditFailure = rejection;
    }

    if (!auditFailure) await recorder.accepted(row(body));
    finish(auditFailure ? 'rejected' : mode === 'off' ? 'off' : 'accepted', body.byteLength);
    return {
      outcome: 'accept',
      status: 200,
      auditFailure: auditFailure ? { status: auditFailure.status, reason: auditFailure.reason } : null,
      delivery: {
        flowId: target.flowId,
        triggerKey: target.triggerKey,
        body,
        data: payload.data,
        headers,
        clientIp,
        receivedAt,
      },
    };
  }

  return { options: resolved, compile, evaluate };
}

function safeUrl(resolve: () => string): string | null {
  try {
    return resolve() || null;
  } catch {
    return null;
  }
}

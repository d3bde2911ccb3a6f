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
import { declaredLength, readBodyWithCap } from './http/body.js';
import { resolveClientIp } from './http/client-ip.js';
import { allHeaders, captureHeaders } from './http/headers.js';
import { decodePayload, isFormEncoded, parseFormFields } from './http/payload.js';
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
   * Checks the request in order of cost: declared size, IP, rate limit and shared key on the
   * headers alone; then reads the body (cap and deadline), checks the signature on the raw bytes,
   * decodes the payload (depth-limited JSON, form or text) and checks replay; and records the
   * outcome. Never throws for a bad request; a trigger with invalid settings throws
   * {@link WebhookConfigError}.
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
  const recorder = new DeliveryRecorder({
    store: resolved.rejectionStore,
    logger,
    recordAccepted: resolved.recordAccepted,
    clock,
    metrics,
    limits: resolved.dlq,
  });
  // Header-only checks run before a byte of the body is read, so a refused address, a flood or a
  // caller without the shared key costs neither memory nor parsing. The shared key precedes the
  // signature and replay so that a caller without it burns neither HMAC work nor a nonce.
  const headerGates: readonly Gate[] = [ipGate, createRateLimitGate(resolved.rateLimiter), sharedKeyGate];
  const signatureGate = createSignatureGate(
    resolved.customStrategies,
    resolved.allowLegacySha1,
    resolved.maxJsonDepth,
  );
  const replayGate = createReplayGate(resolved.replayStore);
  const forwarded = {
    trustedProxies: resolved.trustedProxies,
    ...(resolved.forwardedHeaderDepth > 0 ? { maxHops: resolved.forwardedHeaderDepth } : {}),
  };
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
    const spec = security.signature?.kind === 'hmac' ? security.signature.spec : null;
    const headers = captureHeaders(request.headers, spec?.headerName ? [spec.headerName.toLowerCase()] : []);
    const clientIp = resolveClientIp(request.headers, connection.remoteAddress, forwarded);
    const scheme = security.signature?.schemeName ?? null;
    // A body-resident signature (Mailgun) must not be kept where it could be replayed from.
    const bodyMayBeKept = spec?.payload !== 'timestampPlusToken';
    const flowTag = { flow: target.flowId };
    const row = (body: Uint8Array, bodyBytes = body.byteLength): DeliveryRow => ({
      flowId: target.flowId,
      triggerKey: target.triggerKey,
      receivedAt,
      remoteIp: clientIp,
      bodyBytes,
      body,
      bodyMayBeKept,
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
          clientIp,
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

    let auditFailure: GateRejection | null = null;
    /** Runs one gate under the mode's rules; returns a refusal to answer now, or `null`. */
    const runGate = async (gate: Gate, context: GateContext): Promise<GateRejection | null> => {
      if (gate.kind === 'security' && (mode === 'off' || auditFailure)) return null;
      const rejection = await gate.check(context);
      if (!rejection) return null;
      if (gate.kind === 'always' || mode === 'enforce') return rejection;
      // Audit: record what Enforce would have refused, then let the delivery through.
      await refuse(rejection, context.body, context.body.byteLength);
      auditFailure = rejection;
      return null;
    };

    const empty = new Uint8Array(0);
    const declared = declaredLength(request.headers);
    const context: GateContext = {
      flowId: target.flowId,
      triggerKey: target.triggerKey,
      security,
      body: empty,
      rawHeaders: allHeaders(request.headers),
      absoluteUrl: safeUrl(() => resolved.resolveUrl(request)),
      formFields: null,
      clientIp,
      clock,
      logger,
      shared: { signedTimestampMs: null, freshnessSeconds: null, nonce: null },
    };

    // 1. Headers only: the declared size, then address, rate and shared key. The body stays unread.
    const refuseUnread = async (rejection: GateRejection) => {
      await request.body?.cancel().catch(() => {});
      return rejectNow(rejection, empty, declared ?? 0);
    };
    if (declared !== null && declared > resolved.maxBodyBytes) {
      return refuseUnread(tooLarge(declared, resolved.maxBodyBytes));
    }
    for (const gate of headerGates) {
      const rejection = await runGate(gate, context);
      if (rejection) return refuseUnread(rejection);
    }

    // 2. The body, under the cap and the deadline; both apply in every mode.
    const read = await readBodyWithCap(request, resolved.maxBodyBytes, resolved.bodyReadTimeoutMs);
    if (!read.ok) {
      const rejection =
        read.problem === 'timeout'
          ? {
              status: 408,
              reason: WebhookReason.bodyTimeout,
              event: WebhookLogEvent.bodyTimeout,
              fields: { bytes: read.bytesSeen, timeoutMs: resolved.bodyReadTimeoutMs },
            }
          : tooLarge(read.bytesSeen, resolved.maxBodyBytes);
      return rejectNow(rejection, empty, read.bytesSeen);
    }
    const body = read.bytes;
    const contentType = request.headers.get('content-type');
    const signed: GateContext = {
      ...context,
      body,
      // Only dialects that sign form fields (Twilio, custom, bring-your-own) need them decoded now.
      formFields: needsFormFields(security) && isFormEncoded(contentType) ? parseFormFields(body) : null,
    };

    // 3. The signature, on the raw bytes, before anything is parsed.
    const signatureRejection = await runGate(signatureGate, signed);
    if (signatureRejection) return rejectNow(signatureRejection, body);

    // 4. The payload: only now is JSON parsed, depth-limited. Before replay, so it burns no nonce.
    const payload = decodePayload(body, contentType, resolved.maxJsonDepth);
    if (!payload) {
      return rejectNow(
        { status: 400, reason: WebhookReason.invalidPayload, event: WebhookLogEvent.invalidPayload },
        body,
      );
    }

    // 5. Replay, on what the signature authenticated.
    const replayRejection = await runGate(replayGate, signed);
    if (replayRejection) return rejectNow(replayRejection, body);

    const failure = auditFailure as GateRejection | null;
    if (!failure) await recorder.accepted(row(body));
    finish(failure ? 'rejected' : mode === 'off' ? 'off' : 'accepted', body.byteLength);
    return {
      outcome: 'accept',
      status: 200,
      auditFailure: failure ? { status: failure.status, reason: failure.reason } : null,
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

function tooLarge(bytes: number, cap: number): GateRejection {
  return {
    status: 413,
    reason: WebhookReason.payloadTooLarge,
    event: WebhookLogEvent.payloadTooLarge,
    fields: { bytes, cap },
  };
}

/** Whether the trigger's signature may cover form fields. */
function needsFormFields(security: CompiledTriggerSecurity): boolean {
  const signature = security.signature;
  if (!signature) return false;
  if (signature.kind === 'verifier') return true;
  return signature.spec.payload === 'urlPlusSortedForm' || signature.spec.payload === 'custom';
}

function safeUrl(resolve: () => string): string | null {
  try {
    return resolve() || null;
  } catch {
    return null;
  }
}

import { jsonResponse, rejectionResponse } from '../decision.js';
import { headerValue } from '../http/headers.js';
import { emitLog, WebhookLogEvent, type WebhookLogger } from '../observability/log-events.js';
import type { ConnectionInfo, WebhookPipeline } from '../pipeline.js';
import type { WebhookFlowResolver, WebhookTriggerTarget } from './types.js';

/** Options of {@link createWebhookReceiver}. */
export interface WebhookReceiverOptions {
  /** The security pipeline. */
  readonly pipeline: WebhookPipeline;
  /** Maps the URL segment to a flow and trigger. */
  readonly resolveFlow: WebhookFlowResolver;
  /** Starts runs (the engine). */
  readonly target: WebhookTriggerTarget;
  /** Header carrying the idempotency key (default `Idempotency-Key`). */
  readonly idempotencyHeader?: string;
  /** Log sink for event 4007 and dispatch failures (default: the pipeline's). */
  readonly logger?: WebhookLogger;
  /**
   * Status for an unknown id or slug (default 401, with the same body as a refused signature, so
   * probing cannot tell which slugs exist; 404 is friendlier while setting up).
   */
  readonly unknownRouteStatus?: 401 | 404;
}

/** Framework-neutral webhook endpoint. */
export interface WebhookReceiver {
  /**
   * Answers one delivery addressed to `idOrSlug`: a generic 401 for an unknown flow (see
   * `unknownRouteStatus`), 403 disabled, the pipeline's refusal, 500 if the engine fails, else 200
   * `{ runId, message }`.
   */
  handle(request: Request, idOrSlug: string, connection?: ConnectionInfo): Promise<Response>;
}

/**
 * Builds the endpoint that turns accepted deliveries into engine triggers. Mount it under any
 * route with a `{idOrSlug}` parameter; see `createNodeWebhookListener` for plain `node:http`.
 */
export function createWebhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const idempotencyHeader = options.idempotencyHeader ?? 'Idempotency-Key';
  const logger = options.logger ?? options.pipeline.options.logger;
  const unknownRouteStatus = options.unknownRouteStatus ?? 401;

  return {
    async handle(request, idOrSlug, connection) {
      const flow = await options.resolveFlow(idOrSlug);
      if (!flow) {
        await request.body?.cancel().catch(() => {});
        return unknownRouteStatus === 404
          ? jsonResponse(404, { error: 'Flow or webhook trigger not found.' })
          : rejectionResponse({ status: 401, headers: {} });
      }
      if (flow.enabled === false) return jsonResponse(403, { error: 'Flow is disabled.' });

      const decision = await options.pipeline.evaluate(request, flow, connection);
      if (decision.outcome === 'reject') return rejectionResponse(decision);

      const { delivery } = decision;
      let result: Awaited<ReturnType<WebhookTriggerTarget['trigger']>>;
      try {
        result = await options.target.trigger({
          flowId: delivery.flowId,
          triggerKey: delivery.triggerKey,
          body: delivery.data,
          headers: delivery.headers,
          idempotencyKey: headerValue(delivery.headers, idempotencyHeader),
        });
      } catch (error) {
        emitLog(
          logger,
          WebhookLogEvent.dispatchFailed,
          'The engine failed to start a run for an accepted webhook delivery.',
          { flowId: delivery.flowId, triggerKey: delivery.triggerKey },
          error,
        );
        return jsonResponse(500, { error: 'The flow run could not be started.' });
      }
      if (result.disabled || result.runId === null) return jsonResponse(403, { error: 'Flow is disabled.' });
      emitLog(logger, WebhookLogEvent.deliveryAccepted, 'Webhook delivery started a run.', {
        flowId: delivery.flowId,
        triggerKey: delivery.triggerKey,
        runId: result.runId,
      });
      const name = flow.flowName ?? flow.flowId;
      return jsonResponse(200, { runId: result.runId, message: `Flow '${name}' triggered via webhook.` });
    },
  };
}

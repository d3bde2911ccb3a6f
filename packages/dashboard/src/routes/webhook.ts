import type { FlowClient, Logger } from '@floworch/core';
import {
  createFlowResolver,
  createWebhookPipeline,
  createWebhookReceiver,
  type WebhookFlowResolver,
  type WebhookFlowSource,
  type WebhookPipeline,
  type WebhookReceiver,
  type WebhookSecurityOptions,
} from '@floworch/webhook-hardening';
import { Hono } from 'hono';

/** How `POST {base}/api/webhook/{idOrSlug}` verifies deliveries. */
export interface DashboardWebhookOptions {
  /** A pipeline you built (`createWebhookPipeline`). */
  readonly pipeline?: WebhookPipeline;
  /**
   * Options for the pipeline the dashboard builds when `pipeline` is not given: pass your
   * backend's `replayStore` and `rejectionStore` so replays are refused and dead letters recorded.
   */
  readonly security?: WebhookSecurityOptions;
  /**
   * Flows whose webhook triggers are routed (default: the client's flows, re-read every
   * `refreshMs`). Their trigger inputs carry the keys and stay on the server.
   */
  readonly flows?: readonly WebhookFlowSource[];
  /** How long the routing table built from the client's flows is reused (default 10 000 ms). */
  readonly refreshMs?: number;
  /** Status for an unknown id or slug (default 401, indistinguishable from a bad signature). */
  readonly unknownRouteStatus?: 401 | 404;
}

interface NodeEnv {
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * `POST /api/webhook/{idOrSlug}`: the delivery goes through `@floworch/webhook-hardening` (body
 * cap, IP lists, rate limit, shared key, signature, replay, DLQ) and an accepted one starts a
 * run through the client. The routing table is built from the flows' webhook triggers.
 */
export function webhookRoute(
  client: FlowClient,
  options: DashboardWebhookOptions,
  logger: Logger,
): Hono<{ Bindings: NodeEnv }> {
  const pipeline = options.pipeline ?? createWebhookPipeline(options.security ?? {});
  const refreshMs = options.refreshMs ?? 10_000;
  let table: { resolver: WebhookFlowResolver; at: number } | undefined;
  let building: Promise<WebhookFlowResolver> | undefined;

  const sources = async (): Promise<readonly WebhookFlowSource[]> =>
    options.flows ??
    (await client.listFlows()).map((flow) => ({
      id: flow.id,
      name: flow.name,
      triggers: flow.manifest.triggers,
    }));

  const resolver = async (): Promise<WebhookFlowResolver> => {
    if (table && Date.now() - table.at < refreshMs) return table.resolver;
    building ??= sources()
      .then((flows) => {
        const built = createFlowResolver(flows, {
          pipeline,
          isEnabled: async (flowId) => (await client.getFlow(flowId)).isEnabled,
        });
        table = { resolver: built, at: Date.now() };
        return built;
      })
      .finally(() => {
        building = undefined;
      });
    return building;
  };

  let receiver: WebhookReceiver | undefined;
  const receive = (): WebhookReceiver =>
    (receiver ??= createWebhookReceiver({
      pipeline,
      resolveFlow: async (idOrSlug) => (await resolver())(idOrSlug),
      target: {
        async trigger(input) {
          const run = await client.trigger(input.flowId, {
            triggerKey: input.triggerKey,
            data: input.body,
            headers: input.headers,
            ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
          });
          return { runId: run.runId, disabled: run.disabled };
        },
      },
      ...(options.unknownRouteStatus !== undefined && { unknownRouteStatus: options.unknownRouteStatus }),
    }));

  const app = new Hono<{ Bindings: NodeEnv }>();
  app.post('/:idOrSlug', async (c) => {
    try {
      return await receive().handle(c.req.raw, c.req.param('idOrSlug'), {
        remoteAddress: c.env?.incoming?.socket?.remoteAddress ?? null,
      });
    } catch (error) {
      // A webhook trigger with invalid settings: the flows' problem, not the sender's.
      logger.error('dashboard: webhook routing failed', { error });
      return c.json({ error: 'Webhook endpoint misconfigured.', code: 'WEBHOOK_CONFIG' }, 500);
    }
  });
  app.all('/:idOrSlug', (c) =>
    c.json({ error: 'Use POST.', code: 'METHOD_NOT_ALLOWED' }, 405, { allow: 'POST' }),
  );
  return app;
}

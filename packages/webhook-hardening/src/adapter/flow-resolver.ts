import { isUuid } from '@floworch/core/backend';
import { webhookSettingsFromInputs } from '../config/manifest-inputs.js';
import { WebhookConfigError } from '../errors.js';
import { emitLog, WebhookLogEvent, type WebhookLogger } from '../observability/log-events.js';
import type { WebhookPipeline } from '../pipeline.js';
import type { ResolvedWebhookFlow, WebhookFlowResolver } from './types.js';

/** The parts of a flow definition the resolver reads (structurally a `FlowDefinition`). */
export interface WebhookFlowSource {
  /** Flow id (UUID). */
  readonly id: string;
  /** Display name. */
  readonly name?: string;
  /** Triggers by key; those with `type: 'Webhook'` (any case) are routed. */
  readonly triggers?: Readonly<
    Record<string, { readonly type: string; readonly inputs?: Readonly<Record<string, unknown>> }>
  >;
}

/** Options of {@link createFlowResolver}. */
export interface FlowResolverOptions {
  /** Compiles (validates) every trigger's settings at creation. */
  readonly pipeline: WebhookPipeline;
  /** Receives event 4011 for flows that set both `webhookHmacKey` and `webhookSecret`. */
  readonly logger?: WebhookLogger;
  /** Live enabled flag (e.g. from the flow store); flows count as enabled when it is absent. */
  readonly isEnabled?: (flowId: string) => boolean | Promise<boolean>;
}

/**
 * Routes `{idOrSlug}` to flows defined in code. A UUID selects that flow's first webhook trigger
 * (no slug fallback); anything else is matched case-insensitively against `webhookSlug` inputs.
 * Every webhook trigger is validated here, at start-up, and duplicate slugs are refused instead of
 * letting the first one silently win.
 */
export function createFlowResolver(
  flows: Iterable<WebhookFlowSource>,
  options: FlowResolverOptions,
): WebhookFlowResolver {
  const byId = new Map<string, ResolvedWebhookFlow>();
  const bySlug = new Map<string, ResolvedWebhookFlow>();
  const problems: string[] = [];
  for (const flow of flows) {
    const flowId = flow.id.toLowerCase();
    for (const [triggerKey, trigger] of Object.entries(flow.triggers ?? {})) {
      if (trigger.type.toLowerCase() !== 'webhook') continue;
      const settings = webhookSettingsFromInputs(trigger.inputs ?? {});
      const route: ResolvedWebhookFlow = {
        flowId,
        triggerKey,
        security: settings.security,
        ...(flow.name ? { flowName: flow.name } : {}),
      };
      try {
        options.pipeline.compile(
          settings.security,
          `trigger '${triggerKey}' of flow '${flow.name ?? flowId}'`,
        );
      } catch (error) {
        if (!(error instanceof WebhookConfigError)) throw error;
        problems.push(error.message);
        continue;
      }
      if (settings.conflictingKeyFields && options.logger) {
        emitLog(
          options.logger,
          WebhookLogEvent.conflictingKeyFields,
          'Both webhookHmacKey and webhookSecret are set; webhookHmacKey signs, webhookSecret is the shared key.',
          { flowId, triggerKey },
        );
      }
      if (!byId.has(flowId)) byId.set(flowId, route);
      if (settings.slug) {
        const slug = settings.slug.toLowerCase();
        const clash = bySlug.get(slug);
        if (clash)
          problems.push(`webhook slug '${settings.slug}' is used by flows ${clash.flowId} and ${flowId}`);
        else bySlug.set(slug, route);
      }
    }
  }
  if (problems.length) throw new WebhookConfigError('webhook flows', problems);

  return async (idOrSlug) => {
    const key = idOrSlug.trim().toLowerCase();
    const byGuid = isUuid(key);
    const route = byGuid ? byId.get(key) : bySlug.get(key);
    if (!route) return null;
    const enabled = options.isEnabled ? await options.isEnabled(route.flowId) : true;
    return { ...route, enabled };
  };
}

import type { FlowOrchestrator } from '@floworch/core';
import type { WebhookTriggerTarget } from './types.js';

/**
 * Turns accepted deliveries into runs of a `@floworch/core` orchestrator: the body becomes the
 * trigger data, the (already stripped) headers are kept with the run, and the idempotency key
 * dedupes per flow and trigger.
 *
 * @example
 * const receiver = createWebhookReceiver({ pipeline, resolveFlow, target: orchestratorTarget(orchestrator) });
 */
export function orchestratorTarget(orchestrator: Pick<FlowOrchestrator, 'trigger'>): WebhookTriggerTarget {
  return {
    async trigger(input) {
      const result = await orchestrator.trigger(input.flowId, {
        triggerKey: input.triggerKey,
        data: input.body,
        headers: input.headers,
        ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey } : {}),
      });
      return { runId: result.runId, disabled: result.disabled };
    },
  };
}

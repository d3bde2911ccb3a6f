import { randomUUID } from 'node:crypto';
import type { WebhookTriggerInput, WebhookTriggerResult, WebhookTriggerTarget } from '../src/index.js';

/**
 * Stands in for the engine (which does not exist yet): records triggers, dedups idempotency keys
 * per (flow, trigger, key) the way the engine contract says, and can refuse disabled flows.
 */
export class FakeEngine implements WebhookTriggerTarget {
  readonly calls: WebhookTriggerInput[] = [];
  readonly disabled = new Set<string>();
  readonly #keys = new Map<string, string>();
  fail = false;

  async trigger(input: WebhookTriggerInput): Promise<WebhookTriggerResult> {
    if (this.fail) throw new Error('engine unavailable');
    if (this.disabled.has(input.flowId)) return { runId: null, disabled: true };
    if (input.idempotencyKey) {
      const scope = `${input.flowId}|${input.triggerKey}|${input.idempotencyKey.trim().toLowerCase()}`;
      const existing = this.#keys.get(scope);
      if (existing) return { runId: existing };
      const runId = randomUUID();
      this.#keys.set(scope, runId);
      this.calls.push(input);
      return { runId };
    }
    this.calls.push(input);
    return { runId: randomUUID() };
  }
}

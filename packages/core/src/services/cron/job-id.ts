import { tryFlowId } from '../../ids.js';
import type { FlowDefinition } from '../../model/types.js';
import { DEFAULT_CRON_TIMEZONE } from './expression.js';

/**
 * The recurring-job id of a cron trigger: `flow-<stored flow id>-<triggerKey>`, where the stored
 * id is the one every layer uses (a UUID lower-cased, a slug mapped to its UUID v5). It keys the
 * schedule state and is stamped on every run the trigger starts.
 */
export function cronJobId(flowId: string, triggerKey: string): string {
  return `flow-${tryFlowId(flowId) ?? flowId.toLowerCase()}-${triggerKey}`;
}

/** A cron trigger as declared in code (before any stored override is applied). */
export interface CronTriggerDeclaration {
  /** {@link cronJobId} of the trigger. */
  readonly jobId: string;
  /** The flow. */
  readonly flow: FlowDefinition;
  /** Trigger key in `flow.triggers`. */
  readonly triggerKey: string;
  /** `cronExpression` input, trimmed (`''` when missing). */
  readonly manifestCron: string;
  /** `timezone` input, or UTC. */
  readonly timezone: string;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/** Every `Cron` trigger of `flows` (type matched case-insensitively), in declaration order. */
export function cronTriggersOf(flows: readonly FlowDefinition[]): CronTriggerDeclaration[] {
  const declarations: CronTriggerDeclaration[] = [];
  for (const declared of flows) {
    // The same id mapping as the orchestrator and the client, so slugs key the same job.
    const id = tryFlowId(declared.id);
    const flow = id && id !== declared.id ? { ...declared, id } : declared;
    for (const [triggerKey, trigger] of Object.entries(flow.triggers ?? {})) {
      if (typeof trigger?.type !== 'string' || trigger.type.toLowerCase() !== 'cron') continue;
      const inputs: Readonly<Record<string, unknown>> = trigger.inputs ?? {};
      declarations.push({
        jobId: cronJobId(flow.id, triggerKey),
        flow,
        triggerKey,
        manifestCron: text(inputs.cronExpression),
        timezone: text(inputs.timezone) || DEFAULT_CRON_TIMEZONE,
      });
    }
  }
  return declarations;
}

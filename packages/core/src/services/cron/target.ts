import type { TriggerRequest, TriggerResult } from '../../engine/execution/trigger.js';

/**
 * What the cron scheduler needs from an engine: a way to start a run. A `FlowOrchestrator` or a
 * `FlowClient` is one; so is anything with the same `trigger` signature.
 */
export interface CronTarget {
  /** Starts a run of `flowId`; the scheduler passes the trigger key and an idempotency key. */
  trigger(flowId: string, request: TriggerRequest): Promise<TriggerResult>;
}

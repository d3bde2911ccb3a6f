import type { FlowDefinition } from '../../model/types.js';
import { type EngineContext, emit } from './context.js';

/** What a skip records and reports. */
export interface SkipRecord {
  /** The step's handler type (`Unknown` when not in the manifest). */
  readonly type: string;
  /** Stored as the step's error message. */
  readonly reason: string;
  /** The `step.skipped` event message. */
  readonly message: string;
  /** `flow_step_skipped` metric reason, when the skip is counted. */
  readonly metricReason?: 'prerequisites_unmet' | 'when_false';
  /** Evaluation trace stored with a When skip. */
  readonly traceJson?: string;
}

/** Records an already-claimed step as Skipped (atomically) and publishes `step.skipped`. */
export async function recordSkip(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  stepKey: string,
  skip: SkipRecord,
): Promise<void> {
  await ctx.storage.runtime.recordSkippedStep(runId, stepKey, skip.type, skip.reason, skip.traceJson ?? null);
  if (skip.metricReason) {
    ctx.telemetry.count('flow_step_skipped', {
      flow_id: flow.id,
      step_key: stepKey,
      reason: skip.metricReason,
    });
  }
  await emit(ctx, {
    type: 'step.skipped',
    flowId: flow.id,
    runId,
    stepKey,
    status: 'Skipped',
    message: skip.message,
  });
}

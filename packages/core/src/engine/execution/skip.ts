import type { FlowDefinition } from '../../model/types.js';
import type { EngineContext } from './context.js';
import type { EngineTx } from './transition.js';

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
  /** The claim owner recording it (the skip of a step this instance took). */
  readonly owner?: string;
  /** Skip even though another worker holds a live claim (a run past its deadline). */
  readonly force?: boolean;
}

/**
 * Records a step `Skipped` in the transaction (atomically: no visible `Running`) and publishes
 * `step.skipped`. Returns false when the step is finished or another worker holds it.
 */
export function recordSkip(
  ctx: EngineContext,
  t: EngineTx,
  flow: FlowDefinition,
  stepKey: string,
  skip: SkipRecord,
): boolean {
  const skipped = t.tx.skip(stepKey, {
    stepType: skip.type,
    reason: skip.reason,
    traceJson: skip.traceJson ?? null,
    ...(skip.owner !== undefined ? { owner: skip.owner } : {}),
    ...(skip.force ? { force: true } : {}),
  });
  if (!skipped) return false;
  if (skip.metricReason) {
    ctx.telemetry.count('flow_step_skipped', {
      flow_id: flow.id,
      step_key: stepKey,
      reason: skip.metricReason,
    });
  }
  t.emit({
    type: 'step.skipped',
    flowId: flow.id,
    runId: t.tx.runId,
    stepKey,
    status: 'Skipped',
    message: skip.message,
  });
  return true;
}

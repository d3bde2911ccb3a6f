import type { FlowDefinition, StepDefinition } from '../../model/types.js';
import { toJsonText } from '../../storage/support/json.js';
import { findStep } from '../model/index.js';
import type { EngineContext } from './context.js';
import type { EngineTx } from './transition.js';
import { hasWhen } from './when.js';

/**
 * Queues a ready step. Due now and with room here, it is taken for this instance at once — and,
 * unless a `When` must be evaluated first, started in the same transaction, so the hand-off to
 * the local worker costs no write of its own.
 */
export function enqueue(
  ctx: EngineContext,
  t: EngineTx,
  flow: FlowDefinition,
  stepKey: string,
  delayMs = 0,
): boolean {
  const now = ctx.storage.clock.now().getTime();
  const local = ctx.local;
  const takeHere = delayMs <= 0 && local !== null && local.capacity() + t.freesSlots > t.tx.taken.length;
  const step = takeHere && !hasWhen(flow, stepKey) ? findStep(flow, stepKey) : undefined;
  const queued = t.tx.enqueue(stepKey, {
    visibleAt: new Date(now + Math.max(0, delayMs)),
    ...(takeHere ? { takeFor: { owner: t.owner, leaseMs: ctx.settings.leaseMs } } : {}),
    ...(step ? { start: { stepType: step.type, inputJson: stepInputJson(step, stepKey) } } : {}),
  });
  if (queued && step) {
    t.emit({
      type: 'step.started',
      flowId: flow.id,
      runId: t.tx.runId,
      stepKey,
      status: 'Running',
      message: `Step '${stepKey}' started.`,
    });
  }
  return queued;
}

/** The step row's input column: the step's declared inputs, expressions unresolved. */
export function stepInputJson(step: StepDefinition, stepKey: string): string {
  return toJsonText(step.inputs ?? {}, `inputs of step '${stepKey}'`);
}

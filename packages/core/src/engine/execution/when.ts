import type { FlowDefinition } from '../../model/types.js';
import { SkipReasons } from '../../storage/statuses.js';
import { evaluateWhen, FlowExpressionError, type WhenTrace } from '../expressions/index.js';
import { findStep, runAfterEntries } from '../model/index.js';
import type { EngineContext } from './context.js';
import { runScope, type TriggerSnapshot } from './scope.js';
import { recordSkip } from './skip.js';

/**
 * Evaluates every `when` of a ready step (AND, in runAfter order, first false wins). A false
 * result claims the step and records it Skipped with the trace; returns true when it skipped.
 * Expression errors count as false, with the error as the trace's resolved text.
 */
export async function skipIfWhenFalse(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  stepKey: string,
  trigger: TriggerSnapshot,
): Promise<boolean> {
  const step = findStep(flow, stepKey);
  if (!step) return false;
  const clauses = runAfterEntries(step)
    .map(([, condition]) => condition.when)
    .filter((when): when is string => typeof when === 'string' && when.trim() !== '');
  if (clauses.length === 0) return false;
  const scope = runScope(ctx, flow, runId, trigger);
  let failed: WhenTrace | undefined;
  for (const expression of clauses) {
    const trace = await evaluate(ctx, expression, scope, runId, stepKey);
    if (!trace.result) {
      failed = trace;
      break;
    }
  }
  if (!failed) return false;
  // Someone else may be deciding this step right now; only the claim winner records the skip.
  if (!(await ctx.storage.runtime.tryClaimStep(runId, stepKey))) return false;
  await recordSkip(ctx, flow, runId, stepKey, {
    type: step.type,
    reason: SkipReasons.whenFalse(failed.expression, failed.resolved),
    message: `Step '${stepKey}' skipped because '${failed.expression}' evaluated to false.`,
    metricReason: 'when_false',
    traceJson: JSON.stringify(failed),
  });
  return true;
}

async function evaluate(
  ctx: EngineContext,
  expression: string,
  scope: Parameters<typeof evaluateWhen>[1],
  runId: string,
  stepKey: string,
): Promise<WhenTrace> {
  try {
    return await evaluateWhen(expression, scope);
  } catch (error) {
    if (!(error instanceof FlowExpressionError)) throw error;
    ctx.logger.warn('When expression failed; treating it as false', { runId, stepKey, error: error.message });
    return { expression, resolved: error.message, result: false };
  }
}

import type { FlowDefinition } from '../../model/types.js';
import { evaluateWhen, FlowExpressionError, type WhenTrace } from '../expressions/index.js';
import { findStep, runAfterEntries } from '../model/index.js';
import type { EngineContext } from './context.js';
import { runScope, type TriggerSnapshot } from './scope.js';

/** Whether a step has a `when` clause on any dependency. */
export function hasWhen(flow: FlowDefinition, stepKey: string): boolean {
  const step = findStep(flow, stepKey);
  return step !== undefined && whenClauses(step).length > 0;
}

function whenClauses(step: NonNullable<ReturnType<typeof findStep>>): string[] {
  return runAfterEntries(step)
    .map(([, condition]) => condition.when)
    .filter((when): when is string => typeof when === 'string' && when.trim() !== '');
}

/**
 * Evaluates every `when` of a step that is about to run (AND, in runAfter order, first false
 * wins). Returns the failing clause's trace, or null when the step may run. Expression errors
 * count as false, with the error as the trace's resolved text. Evaluated once per step: by the
 * worker that took the step, before it starts.
 */
export async function failingWhen(
  ctx: EngineContext,
  flow: FlowDefinition,
  runId: string,
  stepKey: string,
  trigger: TriggerSnapshot,
): Promise<WhenTrace | null> {
  const step = findStep(flow, stepKey);
  if (!step) return null;
  const clauses = whenClauses(step);
  if (clauses.length === 0) return null;
  const scope = runScope(ctx, flow, runId, trigger, stepKey);
  for (const expression of clauses) {
    const trace = await evaluate(ctx, expression, scope, runId, stepKey);
    if (!trace.result) return trace;
  }
  return null;
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

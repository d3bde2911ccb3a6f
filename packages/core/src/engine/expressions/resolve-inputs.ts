/**
 * Resolution of step inputs: every string anywhere in the input map that is a whole-value
 * expression is replaced by its value; everything else is kept.
 * @module
 */
import { isExpressionCandidate, parseValueExpression, type ValueExpression } from './parse.js';
import { isPlainObject, setOwn } from './path.js';
import { type ExpressionScope, withStepCache } from './scope.js';
import { evaluateStepExpression } from './step-expressions.js';
import { evaluateTriggerBody, evaluateTriggerHeaders, type TriggerScope } from './trigger-expressions.js';

/**
 * Evaluates one parsed expression of any kind. Trigger forms never throw; `@steps()` throws
 * `FlowExpressionError` for an unknown step key.
 */
export async function evaluateValueExpression(
  expression: ValueExpression,
  scope: ExpressionScope,
): Promise<unknown> {
  switch (expression.kind) {
    case 'triggerBody':
      return evaluateTriggerBody(expression, scope);
    case 'triggerHeaders':
      return evaluateTriggerHeaders(expression, scope);
    case 'step':
      return evaluateStepExpression(expression, scope);
  }
}

/**
 * True when any string inside `value` (recursing into arrays and plain objects) could be an
 * expression, i.e. starts with `@steps(`, `@triggerBody()` or `@triggerHeaders()` after leading
 * whitespace (any casing). Lets callers skip resolution work entirely.
 */
export function containsExpressions(value: unknown): boolean {
  return containsIn(value, new Set());
}

function containsIn(value: unknown, ancestors: Set<object>): boolean {
  if (typeof value === 'string') return isExpressionCandidate(value);
  if (!Array.isArray(value) && !isPlainObject(value)) return false;
  if (ancestors.has(value)) return false;
  ancestors.add(value);
  const items = Array.isArray(value) ? value : Object.values(value);
  const found = items.some((item) => containsIn(item, ancestors));
  ancestors.delete(value);
  return found;
}

/**
 * Resolves expressions in a step's input map, recursing into nested plain objects and arrays.
 * Strings that are not expressions and non-string values pass through; `undefined` becomes
 * `null`. When the map holds only primitives and no expression candidates, the same instance is
 * returned (no allocation); otherwise the result is a fresh structure that shares nothing
 * mutable with the inputs, the trigger data or stored outputs.
 *
 * Resolution is a single pass: a value produced by an expression is never resolved again, so a
 * trigger body containing `"@steps('x').output"` cannot make the engine read another step.
 * Each step's output is fetched at most once per call.
 *
 * @throws FlowExpressionError when a `@steps()` expression names a step the flow does not define.
 */
export async function resolveInputs(
  inputs: Readonly<Record<string, unknown>>,
  scope: ExpressionScope,
): Promise<Record<string, unknown>> {
  if (isFlatLiteralMap(inputs)) return inputs as Record<string, unknown>;
  const cached = withStepCache(scope);
  return (await resolveValue(inputs, cached, new Set())) as Record<string, unknown>;
}

function isFlatLiteralMap(inputs: Readonly<Record<string, unknown>>): boolean {
  for (const value of Object.values(inputs)) {
    if (value === undefined) return false;
    if (typeof value === 'string') {
      if (isExpressionCandidate(value)) return false;
    } else if (Array.isArray(value) || isPlainObject(value)) {
      return false;
    }
  }
  return true;
}

async function resolveValue(
  value: unknown,
  scope: ExpressionScope,
  ancestors: Set<object>,
): Promise<unknown> {
  if (value === undefined) return null;
  if (typeof value === 'string') {
    const expression = parseValueExpression(value);
    return expression ? evaluateValueExpression(expression, scope) : value;
  }
  if (!Array.isArray(value) && !isPlainObject(value)) return value;
  if (ancestors.has(value)) throw new TypeError('Step inputs contain a circular reference.');
  ancestors.add(value);
  try {
    // Sequential on purpose: deterministic fetch order and the first error in input order wins.
    if (Array.isArray(value)) {
      const items: unknown[] = [];
      for (const item of value) items.push(await resolveValue(item, scope, ancestors));
      return items;
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      setOwn(result, key, await resolveValue(item, scope, ancestors));
    return result;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * Resolves `@triggerBody()` / `@triggerHeaders()` only (ForEach collections use this). Any other
 * value — including `@steps()` strings and non-matching forms — is returned unchanged. Never throws.
 */
export function resolveTriggerExpression(value: unknown, scope: TriggerScope): unknown {
  if (typeof value !== 'string') return value;
  const expression = parseValueExpression(value);
  if (!expression) return value;
  if (expression.kind === 'triggerBody') return evaluateTriggerBody(expression, scope);
  if (expression.kind === 'triggerHeaders') return evaluateTriggerHeaders(expression, scope);
  return value;
}

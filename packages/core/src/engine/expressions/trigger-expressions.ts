/**
 * Evaluation of `@triggerBody()` and `@triggerHeaders()` against the trigger of the current run.
 * @module
 */
import type { TriggerBodyExpression, TriggerHeadersExpression } from './parse.js';
import { cloneData, resolvePath } from './path.js';
import type { ExpressionScope } from './scope.js';

/** The part of a scope trigger expressions need. */
export type TriggerScope = Pick<ExpressionScope, 'triggerData' | 'triggerHeaders'>;

/**
 * Looks a header up case-insensitively (header maps are case-insensitive). Tries the
 * exact name and its lower-cased form first, then scans, so maps that were not normalised work too.
 */
export function lookupHeader(headers: Readonly<Record<string, string>> | null, name: string): string | null {
  if (!headers) return null;
  if (Object.hasOwn(headers, name)) return headers[name] ?? null;
  const lower = name.toLowerCase();
  if (Object.hasOwn(headers, lower)) return headers[lower] ?? null;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === lower) return value;
  }
  return null;
}

/**
 * Evaluates a parsed `@triggerBody()` expression. The bare form yields (a copy of) the whole
 * trigger data; a blank path, null data or any missing segment yields null. Never throws.
 */
export function evaluateTriggerBody(expression: TriggerBodyExpression, scope: TriggerScope): unknown {
  const data = scope.triggerData ?? null;
  if (expression.bare) return cloneData(data);
  if (data === null || expression.path.length === 0) return null;
  return cloneData(resolvePath(data, expression.path));
}

/**
 * Evaluates a parsed `@triggerHeaders()` expression: the bare form yields a copy of the header
 * map (null without headers); `['Name']` yields that header's value or null. Never throws.
 */
export function evaluateTriggerHeaders(expression: TriggerHeadersExpression, scope: TriggerScope): unknown {
  if (expression.name === null) return scope.triggerHeaders ? { ...scope.triggerHeaders } : null;
  return lookupHeader(scope.triggerHeaders, expression.name);
}

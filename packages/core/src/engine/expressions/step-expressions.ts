/**
 * Evaluation of `@steps('key').output|status|error` against the current run.
 * @module
 */
import { FlowExpressionError } from './errors.js';
import type { StepExpression } from './parse.js';
import { cloneData, resolvePath } from './path.js';
import type { ExpressionScope } from './scope.js';

/** The message for a `@steps('key')` reference to a key the flow does not define. */
export function unknownStepMessage(key: string, expression: string): string {
  return `Step '${key}' is not defined in the flow manifest. Expression: '${expression}'`;
}

/**
 * Evaluates a parsed `@steps()` expression.
 * - `output`: the stored output (whole, or at the path; missing ⇒ null).
 * - `status`: the step record's status string, or null without a record.
 * - `error`: the record's error message, or null.
 *
 * @throws FlowExpressionError when the key does not name a step of the flow.
 */
export async function evaluateStepExpression(
  expression: StepExpression,
  scope: ExpressionScope,
): Promise<unknown> {
  const { key } = expression;
  if (!scope.hasStep(key)) {
    throw new FlowExpressionError(unknownStepMessage(key, expression.text), expression.text, key);
  }
  if (expression.field === 'output') {
    const output = (await scope.getStepOutput(key)) ?? null;
    return cloneData(resolvePath(output, expression.path));
  }
  const record = await scope.getStepRecord(key);
  if (!record) return null;
  return expression.field === 'status' ? record.status : (record.errorMessage ?? null);
}

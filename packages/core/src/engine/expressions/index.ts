/**
 * The expression layer of the engine: `@triggerBody()`, `@triggerHeaders()` and
 * `@steps('key').output|status|error` value expressions (step inputs, ForEach collections) and
 * the `When` boolean language of `runAfter` conditions.
 * @module
 */
export { FlowExpressionError } from './errors.js';
export {
  isExpressionCandidate,
  isStepExpressionCandidate,
  parseValueExpression,
  type StepExpression,
  type StepField,
  type TriggerBodyExpression,
  type TriggerHeadersExpression,
  type ValueExpression,
} from './parse.js';
export { resolvePath, splitPath } from './path.js';
export {
  containsExpressions,
  evaluateValueExpression,
  resolveInputs,
  resolveTriggerExpression,
} from './resolve-inputs.js';
export { type ExpressionScope, type StepRecordView, withStepCache } from './scope.js';
export { lookupHeader, type TriggerScope } from './trigger-expressions.js';
export { evaluateWhen, formatWhenValue, type WhenTrace, type WhenValue } from './when/evaluate.js';
export type { ComparisonOperator } from './when/lexer.js';
export { type ParsedWhen, parseWhen, type WhenNode } from './when/parser.js';

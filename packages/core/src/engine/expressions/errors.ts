import { FlowOrchError } from '../../errors.js';

/**
 * An expression could not be parsed or evaluated: a `When` syntax or type error, an unknown
 * left-hand side, or a `@steps('key')` reference to a step the flow does not define.
 *
 * In step inputs it fails the step; in a `When` clause callers turn it into a `false` trace.
 */
export class FlowExpressionError extends FlowOrchError {
  /** The expression text as written (the whole `When` source, or the input string). */
  readonly expression: string;
  /** The step key of a `@steps('key')` reference that could not be resolved, when that was the cause. */
  readonly stepKey?: string;

  /**
   * @param message full human-readable message (already names the expression)
   * @param expression the offending expression text
   * @param stepKey the unresolvable step key, if any
   */
  constructor(message: string, expression: string, stepKey?: string) {
    super('FLOW_EXPRESSION', message);
    this.expression = expression;
    if (stepKey !== undefined) this.stepKey = stepKey;
  }
}

/**
 * Static checks of expressions, for validating flows at start-up: a string that looks like a
 * function call (`@name(`) must be one of the known functions in a form the engine evaluates,
 * so a typo fails start-up instead of reaching a handler as literal text.
 * @module
 */
import { parseValueExpression } from './parse.js';
import { parseWhen, type WhenNode } from './when/parser.js';

/** Functions a value expression may call (lower-cased). */
const VALUE_FUNCTIONS = new Set(['steps', 'triggerbody', 'triggerheaders', 'loopitem', 'loopindex']);
const CALL = /^\s*@([A-Za-z_][A-Za-z0-9_]*)\s*\(/;
const LOOP_ITEM = /^\s*@loopItem\(\)\s*(?:(?:\?\.|\.|\[)[\s\S]*)?$/i;
const LOOP_INDEX = /^\s*@loopIndex\(\)\s*$/i;

/**
 * Checks one input string. Returns null for literals and well-formed expressions; otherwise the
 * problem. `@steps(...)`, `@triggerBody()` and `@triggerHeaders()` must parse exactly;
 * `@loopItem()` (optionally with a path) and `@loopIndex()` are accepted as written.
 */
export function checkValueString(text: string): string | null {
  const call = CALL.exec(text);
  if (!call) return null;
  const name = call[1]!.toLowerCase();
  if (!VALUE_FUNCTIONS.has(name)) {
    return `unknown function '@${call[1]}()' (known: @steps('key'), @triggerBody(), @triggerHeaders(), @loopItem(), @loopIndex())`;
  }
  if (name === 'loopitem') return LOOP_ITEM.test(text) ? null : 'malformed @loopItem() expression';
  if (name === 'loopindex') return LOOP_INDEX.test(text) ? null : 'malformed @loopIndex() expression';
  if (parseValueExpression(text)) return null;
  return name === 'steps'
    ? "malformed expression (expected @steps('key').output, .status or .error, with the key in quotes)"
    : `malformed expression (expected @${call[1]}() followed by nothing, a path, or ['Name'])`;
}

/** Every `@steps('key')` key a parsed value expression reads. */
export function referencedStep(text: string): string | null {
  const parsed = parseValueExpression(text);
  return parsed?.kind === 'step' ? parsed.key : null;
}

function leftHandSides(node: WhenNode, into: string[]): string[] {
  switch (node.kind) {
    case 'lhs':
      into.push(node.text);
      break;
    case 'not':
      leftHandSides(node.operand, into);
      break;
    case 'and':
    case 'or':
    case 'compare':
      leftHandSides(node.left, into);
      leftHandSides(node.right, into);
      break;
    default:
      break;
  }
  return into;
}

/**
 * Checks a `When` expression: its syntax, and that every left-hand side is a value expression
 * the evaluator resolves (an unknown one would make the clause false at run time).
 * @returns the problems (empty when fine) and the step keys it reads
 * @throws FlowExpressionError on a syntax error
 */
export function checkWhen(expression: string): { problems: string[]; steps: string[] } {
  const parsed = parseWhen(expression);
  const problems: string[] = [];
  const steps: string[] = [];
  for (const lhs of leftHandSides(parsed.root, [])) {
    const value = parseValueExpression(lhs);
    if (!value) {
      const problem = checkValueString(lhs);
      problems.push(
        problem && !problem.startsWith('malformed @loop')
          ? `'${lhs}': ${problem}`
          : `'${lhs}' is not a value a When clause can read (use @steps('key')…, @triggerBody()…, @triggerHeaders()…)`,
      );
    } else if (value.kind === 'step') {
      steps.push(value.key);
    }
  }
  return { problems, steps };
}

/**
 * Evaluation of parsed `When` expressions, producing a trace of the substituted values.
 *
 * Numbers are JS doubles: the reference compares decimals, which IEEE doubles approximate
 * (equal for the integers and short decimal fractions flows use in practice).
 * @module
 */
import { FlowExpressionError } from '../errors.js';
import { parseValueExpression } from '../parse.js';
import { evaluateValueExpression } from '../resolve-inputs.js';
import { type ExpressionScope, withStepCache } from '../scope.js';
import type { ComparisonOperator } from './lexer.js';
import { type ParsedWhen, parseWhen, type WhenNode } from './parser.js';

/** The outcome of evaluating a `When` expression. */
export interface WhenTrace {
  /** The expression as written. */
  readonly expression: string;
  /** The expression with each resolved left-hand side replaced by its formatted value, e.g. `500 > 1000`. */
  readonly resolved: string;
  /** The boolean result. */
  readonly result: boolean;
}

/** A normalised `When` value. Objects and arrays become their JSON text. */
export type WhenValue = string | number | boolean | null;

/** Type name used in error messages: `null`, `string`, `bool` or `number`. */
export function whenTypeName(value: WhenValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/** Normalises a resolved value: objects/arrays become their JSON text, `undefined` becomes null. */
export function toWhenValue(raw: unknown): WhenValue {
  if (raw === null || raw === undefined) return null;
  switch (typeof raw) {
    case 'boolean':
    case 'string':
    case 'number':
      return raw;
    case 'bigint':
      return Number(raw);
    case 'object':
      return JSON.stringify(raw) ?? String(raw);
    default:
      return String(raw);
  }
}

/** Formats a value for the trace: `null`, `'text'`, `true`/`false`, or the number's digits. */
export function formatWhenValue(value: WhenValue): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

class Evaluation {
  // Each distinct LHS text is resolved at most once; insertion order is resolution order.
  readonly resolved = new Map<string, WhenValue>();
  private readonly scope: ExpressionScope;

  constructor(
    private readonly src: string,
    scope: ExpressionScope,
  ) {
    this.scope = withStepCache(scope);
  }

  private fail(message: string): never {
    throw new FlowExpressionError(message, this.src);
  }

  async evaluate(node: WhenNode): Promise<WhenValue> {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'lhs':
        return this.resolveLhs(node.text);
      case 'not': {
        const operand = await this.evaluate(node.operand);
        if (typeof operand !== 'boolean') {
          this.fail(
            `Operator '!' requires a boolean operand; got '${whenTypeName(operand)}' in expression '${this.src}'.`,
          );
        }
        return !operand;
      }
      case 'and':
      case 'or': {
        const op = node.kind === 'and' ? '&&' : '||';
        const left = await this.evaluate(node.left);
        this.requireBool(op, 'left', left);
        // Short-circuit: the right side (and any LHS in it) is not resolved.
        if (node.kind === 'and' ? !left : left) return left;
        const right = await this.evaluate(node.right);
        this.requireBool(op, 'right', right);
        return right;
      }
      case 'compare': {
        const left = await this.evaluate(node.left);
        const right = await this.evaluate(node.right);
        return this.compare(node.op, left, right);
      }
    }
  }

  private requireBool(op: string, side: 'left' | 'right', value: WhenValue): asserts value is boolean {
    if (typeof value !== 'boolean') {
      this.fail(
        `Operator '${op}' requires boolean operands; ${side} was '${whenTypeName(value)}' in expression '${this.src}'.`,
      );
    }
  }

  private async resolveLhs(text: string): Promise<WhenValue> {
    if (this.resolved.has(text)) return this.resolved.get(text) ?? null;
    // Forms the input resolver would keep as literals (e.g. `@triggerBody()[0]`) are errors
    // here: comparing the literal text would silently make `!=` true.
    const expression = parseValueExpression(text);
    if (!expression) {
      this.fail(
        `Unknown LHS expression '${text}'. Expected '@steps(...)', '@triggerBody(...)', or '@triggerHeaders(...)'.`,
      );
    }
    const value = toWhenValue(await evaluateValueExpression(expression, this.scope));
    this.resolved.set(text, value);
    return value;
  }

  private compare(op: ComparisonOperator, left: WhenValue, right: WhenValue): boolean {
    if (left === null || right === null) {
      if (op === '==') return left === right;
      if (op === '!=') return left !== right;
      this.fail(`Cannot apply operator '${op}' to null operand in expression '${this.src}'.`);
    }
    if (typeof left === 'boolean' && typeof right === 'boolean') {
      if (op === '==') return left === right;
      if (op === '!=') return left !== right;
      this.fail(`Operator '${op}' is not defined for booleans in expression '${this.src}'.`);
    }
    if (
      (typeof left === 'number' && typeof right === 'number') ||
      (typeof left === 'string' && typeof right === 'string')
    ) {
      // JS string comparison is by UTF-16 code unit, i.e. ordinal and case-sensitive.
      switch (op) {
        case '==':
          return left === right;
        case '!=':
          return left !== right;
        case '>':
          return left > right;
        case '<':
          return left < right;
        case '>=':
          return left >= right;
        case '<=':
          return left <= right;
      }
    }
    return this.fail(
      `Cannot compare values of types '${whenTypeName(left)}' and '${whenTypeName(right)}' with operator '${op}' in expression '${this.src}'.`,
    );
  }
}

/**
 * Rewrites the source for the trace: the first occurrence of each resolved LHS is replaced by its
 * formatted value. LHS skipped by short-circuiting stay as written.
 */
function buildResolved(parsed: ParsedWhen, resolved: ReadonlyMap<string, WhenValue>): string {
  const replacements = [...resolved]
    .map(([text, value]) => ({ pos: parsed.lhsPositions.get(text) ?? -1, text, value }))
    .filter((r) => r.pos >= 0)
    .sort((a, b) => a.pos - b.pos);
  let out = '';
  let cursor = 0;
  for (const r of replacements) {
    out += parsed.source.slice(cursor, r.pos) + formatWhenValue(r.value);
    cursor = r.pos + r.text.length;
  }
  return out + parsed.source.slice(cursor);
}

/**
 * Evaluates a `When` expression against a scope.
 * @throws FlowExpressionError for syntax errors, type errors, an unknown LHS form, a reference to
 *   an undefined step, or a non-boolean result (callers turn these into a false trace).
 */
export async function evaluateWhen(expression: string, scope: ExpressionScope): Promise<WhenTrace> {
  const parsed = parseWhen(expression);
  const evaluation = new Evaluation(expression, scope);
  const value = await evaluation.evaluate(parsed.root);
  if (typeof value !== 'boolean') {
    throw new FlowExpressionError(
      `Expression must evaluate to a boolean. Expression: '${expression}'.`,
      expression,
    );
  }
  return { expression, resolved: buildResolved(parsed, evaluation.resolved), result: value };
}

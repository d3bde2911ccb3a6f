import type { FlowDefinition, StepDefinition } from '../model/types.js';
import { checkValueString, checkWhen, referencedStep } from './expressions/check.js';
import { FlowExpressionError } from './expressions/index.js';
import type { HandlerRegistry } from './handlers.js';
import { findStep, isForEachStep, loopChildren, runAfterEntries, validateFlow } from './model/index.js';

/** Options of {@link validateFlowDefinition}. */
export interface FlowValidationOptions {
  /** Handlers to check step types against; required unless `checkHandlers` is false. */
  readonly handlers?: HandlerRegistry;
  /** Check that every step type has a handler (default true when `handlers` is given). */
  readonly checkHandlers?: boolean;
  /**
   * Report steps without a handler in `unhandled` (a warning) instead of as problems; such steps
   * are recorded `Skipped` at run time.
   */
  readonly allowMissingHandlers?: boolean;
  /** Receives the missing-handler messages when `allowMissingHandlers` is set. */
  readonly unhandled?: string[];
}

/** Whether `key` read by the step at template path `path` names a step (a sibling inside a loop). */
function knowsStep(flow: FlowDefinition, path: string, key: string): boolean {
  if (findStep(flow, key)) return true;
  const cut = path.lastIndexOf('.');
  return cut > 0 && !key.includes('.') && findStep(flow, `${path.slice(0, cut)}.${key}`) !== undefined;
}

/** Every string in an input value with its location (`inputs.a.b[0]`). */
function* strings(value: unknown, where: string, seen = new Set<object>()): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [value, where];
  } else if (value && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) yield* strings(item, `${where}[${i}]`, seen);
    } else {
      for (const [key, item] of Object.entries(value)) yield* strings(item, `${where}.${key}`, seen);
    }
  }
}

/** Problems of one step's expressions: inputs, ForEach collection, When clauses. */
function expressionProblems(flow: FlowDefinition, path: string, step: StepDefinition): string[] {
  const problems: string[] = [];
  const values: Array<[string, string]> = [...strings(step.inputs ?? {}, 'inputs')];
  if (isForEachStep(step)) values.push(...strings(step.forEach, 'forEach'));
  for (const [text, where] of values) {
    const problem = checkValueString(text);
    if (problem) {
      problems.push(`Step '${path}' has an invalid expression in ${where}: '${text}': ${problem}.`);
      continue;
    }
    const key = referencedStep(text);
    if (key !== null && !knowsStep(flow, path, key)) {
      problems.push(`Step '${path}' reads unknown step '${key}' in ${where}: '${text}'.`);
    }
  }
  for (const [dependency, condition] of runAfterEntries(step)) {
    if (!condition.when) continue;
    const on = dependency === '' ? 'its entry condition' : `'${dependency}'`;
    try {
      const { problems: lhs, steps } = checkWhen(condition.when);
      for (const p of lhs)
        problems.push(`Step '${path}' has an invalid when on ${on}: '${condition.when}': ${p}.`);
      for (const key of steps) {
        if (!knowsStep(flow, path, key)) {
          problems.push(
            `Step '${path}' reads unknown step '${key}' in its when on ${on}: '${condition.when}'.`,
          );
        }
      }
    } catch (error) {
      if (!(error instanceof FlowExpressionError)) throw error;
      problems.push(`Step '${path}' has an invalid when on ${on}: ${error.message}`);
    }
  }
  return problems;
}

/**
 * Every problem of a flow, each prefixed with the flow's name and id: graph errors from the
 * model (a cycle first), malformed or unknown expressions in inputs, ForEach collections and
 * When clauses, and — unless relaxed — step types without a handler.
 */
export function validateFlowDefinition(flow: FlowDefinition, options: FlowValidationOptions = {}): string[] {
  const problems = [...validateFlow(flow)];
  const checkHandlers = options.checkHandlers ?? options.handlers !== undefined;
  const visit = (steps: FlowDefinition['steps'], prefix: string): void => {
    for (const [key, step] of Object.entries(steps)) {
      const path = `${prefix}${key}`;
      if (!step || typeof step !== 'object') continue;
      problems.push(...expressionProblems(flow, path, step));
      const type = typeof step.type === 'string' ? step.type.trim() : '';
      if (checkHandlers && type && !isForEachStep(step) && !options.handlers?.has(type)) {
        const message = `Step '${path}' has type '${type}' but no handler is registered for it`;
        if (options.allowMissingHandlers) {
          options.unhandled?.push(`${message} (flow '${flow.name}'); its runs record it Skipped.`);
        } else {
          problems.push(`${message} (register one, or pass allowMissingHandlers: true to start anyway).`);
        }
      }
      if (isForEachStep(step) && step.steps && typeof step.steps === 'object') {
        visit(loopChildren(step), `${path}.`);
      }
    }
  };
  visit(flow.steps ?? {}, '');
  return problems.map((p) => `Flow '${flow.name}' (${flow.id}) is invalid: ${p}`);
}

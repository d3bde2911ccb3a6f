import type { FlowDefinition } from '../model/types.js';
import { FlowExpressionError, parseWhen } from './expressions/index.js';
import type { HandlerRegistry } from './handlers.js';
import { findStep, runAfterEntries, validateFlow } from './model/index.js';

/**
 * Every problem of a flow, each prefixed with the flow's name and id: graph errors from the
 * model and When syntax errors. Step types without a handler are appended to `unhandled`.
 */
export function validateFlowDefinition(
  flow: FlowDefinition,
  handlers: HandlerRegistry,
  unhandled: string[] = [],
): string[] {
  const problems = [...validateFlow(flow)];
  const visit = (steps: FlowDefinition['steps'], prefix: string): void => {
    for (const [key, step] of Object.entries(steps)) {
      const fullKey = `${prefix}${key}`;
      for (const [dependency, condition] of runAfterEntries(step)) {
        if (!condition.when) continue;
        try {
          parseWhen(condition.when);
        } catch (error) {
          if (!(error instanceof FlowExpressionError)) throw error;
          problems.push(`Step '${fullKey}' has an invalid when on '${dependency}': ${error.message}`);
        }
      }
      const type = step.type?.trim();
      if (type && type.toLowerCase() !== 'foreach' && !handlers.has(type)) {
        // Not fatal (the step is recorded Skipped at run time, as in the reference), but worth a warning.
        unhandled.push(
          `Step '${fullKey}' of flow '${flow.name}' has type '${type}' but no handler is registered for it.`,
        );
      }
      const children = (step as { steps?: FlowDefinition['steps'] }).steps;
      if (children && findStep(flow, fullKey)) visit(children, `${fullKey}.`);
    }
  };
  visit(flow.steps, '');
  return problems.map((p) => `Flow '${flow.name}' (${flow.id}) is invalid: ${p}`);
}

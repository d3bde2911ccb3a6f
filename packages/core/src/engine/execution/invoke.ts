import type { StepDefinition } from '../../model/types.js';
import { SkipReasons } from '../../storage/statuses.js';
import { type ExpressionScope, resolveInputs } from '../expressions/index.js';
import { isStepResult, type StepContext, type StepHandler } from '../handlers.js';
import type { EngineContext } from './context.js';
import { resolveLoopExpressions } from './loop-scope.js';
import { describeThrown, findJsonProblem, unstorableOutputReason } from './outcome-json.js';

/** What one handler invocation produced, normalised. */
export interface StepOutcome {
  /** Outcome. */
  readonly status: 'Succeeded' | 'Failed' | 'Skipped' | 'Pending';
  /** Output to store. */
  readonly output: unknown;
  /** Failure or skip reason. */
  readonly reason: string | null;
  /** Pending re-run delay, or successor delay on success. */
  readonly delayMs: number | null;
  /** The thrown error, when there was one. */
  readonly cause?: unknown;
  /** The resolved inputs the handler saw (stored with the outcome), when any. */
  readonly inputs?: Readonly<Record<string, unknown>>;
}

const failed = (reason: string, cause?: unknown): StepOutcome => ({
  status: 'Failed',
  output: null,
  reason,
  delayMs: null,
  cause,
});

/** Formats a zod error as `field: problem; field: problem`. */
function describeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string {
  return issues
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(inputs)'}: ${i.message}`)
    .join('; ');
}

/**
 * Resolves the step's input expressions, validates them against the handler's schema, calls the
 * handler and normalises what it returns or throws. Never throws itself.
 */
export async function invokeHandler(
  ctx: EngineContext,
  step: StepDefinition,
  base: Omit<StepContext, 'inputs'>,
  scope: ExpressionScope,
): Promise<StepOutcome> {
  const handler: StepHandler | undefined = ctx.handlers.get(step.type);
  if (!handler)
    return { status: 'Skipped', output: null, reason: SkipReasons.noHandler(step.type), delayMs: null };
  let inputs: Record<string, unknown>;
  try {
    inputs = await resolveInputs(step.inputs ?? {}, scope);
    // Loop items are substituted after expressions, so item data is never evaluated as one.
    if (base.loop) inputs = resolveLoopExpressions(inputs, base.loop) as Record<string, unknown>;
  } catch (error) {
    return failed(`Could not resolve inputs of step '${base.stepKey}': ${(error as Error).message}`, error);
  }
  let execute: (context: StepContext<never>) => unknown;
  let parsed: unknown = inputs;
  if (typeof handler === 'function') {
    execute = handler as (context: StepContext<never>) => unknown;
  } else {
    const result = handler.input.safeParse(inputs);
    if (!result.success) {
      return failed(
        `Invalid inputs for step '${base.stepKey}' (type '${step.type}'): ${describeIssues(result.error.issues)}`,
        result.error,
      );
    }
    parsed = result.data;
    execute = handler.execute as (context: StepContext<never>) => unknown;
  }
  // Steps without inputs store none (getStepInput reads null), sparing a write.
  const stored = Object.keys(inputs).length > 0 ? { inputs } : {};
  let value: unknown;
  try {
    value = await execute({ ...base, inputs: parsed } as StepContext<never>);
  } catch (error) {
    ctx.logger.warn('step handler threw', { runId: base.runId, stepKey: base.stepKey, error });
    return { ...failed(describeThrown(error), error), ...stored };
  }
  const outcome: StepOutcome = isStepResult(value)
    ? {
        status: value.status,
        output: value.output ?? null,
        reason: value.reason ?? null,
        delayMs: value.delayMs ?? null,
        ...stored,
      }
    : { status: 'Succeeded', output: value ?? null, reason: null, delayMs: null, ...stored };
  // Checked here, whatever the status, so a function or Symbol is not silently stored as null.
  const problem = findJsonProblem(outcome.output);
  if (problem) {
    const reason = unstorableOutputReason(base.stepKey, problem);
    ctx.logger.warn('step output cannot be stored as JSON', {
      runId: base.runId,
      stepKey: base.stepKey,
      problem,
    });
    return { ...failed(reason), ...stored };
  }
  return outcome;
}

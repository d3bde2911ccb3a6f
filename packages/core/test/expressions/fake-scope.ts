import type { ExpressionScope } from '../../src/engine/expressions/index.js';

/** One step as the fake scope knows it. `output: undefined` means "no stored output". */
export interface FakeStep {
  output?: unknown;
  status?: string;
  errorMessage?: string | null;
}

/** A plain in-memory `ExpressionScope` that counts every lookup. */
export interface FakeScope extends ExpressionScope {
  readonly calls: { hasStep: string[]; output: string[]; record: string[] };
}

/**
 * Builds a scope. `steps` lists the steps that have run; `declared` adds step keys that are part
 * of the flow but have no record or output yet.
 */
export function fakeScope(
  options: {
    body?: unknown;
    headers?: Record<string, string> | null;
    steps?: Record<string, FakeStep>;
    declared?: string[];
  } = {},
): FakeScope {
  const steps = options.steps ?? {};
  const declared = new Set([...Object.keys(steps), ...(options.declared ?? [])]);
  const calls = { hasStep: [] as string[], output: [] as string[], record: [] as string[] };
  return {
    calls,
    triggerData: options.body === undefined ? null : options.body,
    triggerHeaders: options.headers === undefined ? null : options.headers,
    hasStep(key) {
      calls.hasStep.push(key);
      return declared.has(key);
    },
    async getStepOutput(key) {
      calls.output.push(key);
      await Promise.resolve();
      const step = steps[key];
      return step?.output === undefined ? null : step.output;
    },
    async getStepRecord(key) {
      calls.record.push(key);
      await Promise.resolve();
      const step = steps[key];
      if (!step?.status) return null;
      return { status: step.status, errorMessage: step.errorMessage ?? null };
    },
  };
}

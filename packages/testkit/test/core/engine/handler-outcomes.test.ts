import type { FlowOrchestrator } from '@floworch/core';
import { StepResults } from '@floworch/core';
import { afterEach, describe, expect, it } from 'vitest';
import { flowId, startEngine, waitForRun } from './support.js';

const running: FlowOrchestrator[] = [];
afterEach(async () => {
  for (const o of running.splice(0)) await o.stop();
});

/** Runs a one-step flow whose handler is `handler`; returns the run and the step record. */
async function runOne(handler: () => unknown) {
  const flow = { id: flowId(), name: 'One', steps: { only: { type: 'Only' } } };
  const { orchestrator, storage } = await startEngine({ flows: [flow], handlers: { Only: handler } });
  running.push(orchestrator);
  const { runId } = await orchestrator.trigger(flow.id, { data: {} });
  const run = await waitForRun(storage, runId!);
  const step = run.steps?.find((s) => s.stepKey === 'only');
  return { run, step, output: await storage.outputs.getStepOutput(runId!, 'only') };
}

describe('handler outcomes', () => {
  it('records a thrown plain object in its JSON form, not [object Object]', async () => {
    const { run, step } = await runOne(() => {
      throw { code: 'E1', message: 'boom' };
    });
    expect(run.status).toBe('Failed');
    expect(step?.status).toBe('Failed');
    expect(step?.errorMessage).toContain('{"code":"E1","message":"boom"}');
  });

  it.each([
    ['a function', () => () => 1, 'a function at $'],
    ['a Symbol', () => ({ tag: Symbol('t') }), 'a Symbol at $.tag'],
    ['a BigInt', () => ({ total: 10n }), 'a BigInt at $.total'],
    [
      'a cycle',
      () => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      },
      'a circular reference at $.self',
    ],
    ['a function in a StepResult', () => StepResults.succeeded({ cb: () => 1 }), 'a function at $.cb'],
  ])(
    'fails the step when the output holds %s, naming the step and the problem',
    async (_, handler, problem) => {
      const { run, step, output } = await runOne(handler);
      expect(run.status).toBe('Failed');
      expect(step?.status).toBe('Failed');
      expect(step?.errorMessage).toBe(
        `Step 'only' returned an output that cannot be stored as JSON: ${problem}.`,
      );
      expect(output).toBeNull();
    },
  );
});

import { defineHandler, type FlowDefinition, type FlowOrchestrator, StepResults } from '@floworch/core';
import { waitFor } from '@floworch/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { flowId, sleep, startEngine, startFakeTimeEngine, statusesOf, waitForRun } from './support.js';

const running: FlowOrchestrator[] = [];
afterEach(async () => {
  for (const o of running.splice(0)) await o.stop();
});
async function engine(options: Parameters<typeof startEngine>[0]) {
  const result = await startEngine(options);
  running.push(result.orchestrator);
  return result;
}

/** {@link engine} on fake time (see `startFakeTimeEngine`). */
async function fakeTimeEngine(options: Parameters<typeof startFakeTimeEngine>[0]) {
  const result = await startFakeTimeEngine(options);
  running.push(result.orchestrator);
  return result;
}

describe('engine: happy paths', () => {
  it('runs a linear chain in order, passing outputs through @steps()', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Chain',
      steps: {
        a: { type: 'Emit', inputs: { value: '@triggerBody().n' } },
        b: { type: 'Double', runAfter: { a: ['Succeeded'] }, inputs: { value: "@steps('a').output.value" } },
        c: { type: 'Double', runAfter: { b: ['Succeeded'] }, inputs: { value: "@steps('b').output.value" } },
      },
    };
    const { orchestrator, storage, events } = await engine({
      flows: [flow],
      handlers: {
        Emit: ({ inputs }) => ({ value: inputs.value }),
        Double: ({ inputs }) => ({ value: (inputs.value as number) * 2 }),
      },
    });
    const { runId } = await orchestrator.trigger(flow.id, { data: { n: 5 } });
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(await storage.outputs.getStepOutput(runId!, 'c')).toEqual({ value: 20 });
    expect(events.filter((e) => e.runId === runId).map((e) => `${e.type}:${e.stepKey ?? ''}`)).toEqual([
      'run.started:',
      'step.started:a',
      'step.completed:a',
      'step.started:b',
      'step.completed:b',
      'step.started:c',
      'step.completed:c',
      'run.completed:c',
    ]);
    const persisted = await storage.events.getRunEvents(runId!);
    expect(persisted.map((e) => e.type)).toContain('run.completed');
  });

  it('fans out and joins: the join runs exactly once after every branch', async () => {
    let joins = 0;
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'FanIn',
      steps: {
        start: { type: 'Noop' },
        ...Object.fromEntries(
          Array.from({ length: 8 }, (_, i) => [
            `branch${i}`,
            { type: 'Slow', runAfter: { start: ['Succeeded'] } },
          ]),
        ),
        join: {
          type: 'Join',
          runAfter: Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`branch${i}`, ['Succeeded']])),
        },
      },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      concurrency: 8,
      handlers: {
        Noop: () => null,
        Slow: async () => {
          await sleep(Math.random() * 10);
          return 1;
        },
        Join: () => {
          joins++;
        },
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(joins).toBe(1);
    expect(run.steps).toHaveLength(10);
  });
});

describe('engine: skips and failures', () => {
  it('skips a step whose When is false, storing the trace, and the run still succeeds', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'When',
      steps: {
        check: { type: 'Noop' },
        bigOrder: {
          type: 'Noop',
          runAfter: { check: { statuses: ['Succeeded'], when: '@triggerBody().amount > 1000' } },
        },
        always: { type: 'Noop', runAfter: { check: ['Succeeded'] } },
      },
    };
    const { orchestrator, storage } = await engine({ flows: [flow], handlers: { Noop: () => null } });
    const { runId } = await orchestrator.trigger(flow.id, { data: { amount: 500 } });
    const run = await waitForRun(storage, runId!);
    const skipped = run.steps!.find((s) => s.stepKey === 'bigOrder')!;
    expect(skipped.status).toBe('Skipped');
    expect(skipped.errorMessage).toBe(
      "When clause '@triggerBody().amount > 1000' evaluated to false (500 > 1000).",
    );
    expect(JSON.parse(skipped.evaluationTraceJson!)).toEqual({
      expression: '@triggerBody().amount > 1000',
      resolved: '500 > 1000',
      result: false,
    });
    expect(run.status).toBe('Succeeded');
  });

  it('a failure skips the whole dependent cascade in one continuation and fails the run', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Cascade',
      steps: {
        a: { type: 'Boom' },
        b: { type: 'Noop', runAfter: { a: ['Succeeded'] } },
        c: { type: 'Noop', runAfter: { b: ['Succeeded'] } },
        d: { type: 'Noop', runAfter: { c: ['Succeeded'] } },
      },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: { Noop: () => null, Boom: () => StepResults.failed('card declined') },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(statusesOf(run)).toEqual({ a: 'Failed', b: 'Skipped', c: 'Skipped', d: 'Skipped' });
    expect(run.steps!.find((s) => s.stepKey === 'a')!.errorMessage).toBe('card declined');
    expect(run.status).toBe('Failed');
  });

  it('a handled failure (an error-handler step succeeded) lets the run succeed', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Handled',
      steps: {
        charge: { type: 'Boom' },
        refund: { type: 'Noop', runAfter: { charge: ['Failed'] } },
      },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: {
        Noop: () => null,
        Boom: () => {
          throw new Error('gateway down');
        },
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(statusesOf(run)).toEqual({ charge: 'Failed', refund: 'Succeeded' });
    expect(run.status).toBe('Succeeded');
  });

  it('with allowMissingHandlers, a step type without a handler is skipped, not failed', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'NoHandler', steps: { a: { type: 'Missing' } } };
    const { orchestrator, storage } = await engine({ flows: [flow], allowMissingHandlers: true });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(run.steps![0]).toMatchObject({
      status: 'Skipped',
      errorMessage: "No handler registered for type 'Missing'.",
    });
    expect(run.status).toBe('Skipped');
  });

  it('zod-typed inputs: a mismatch fails the step naming the field', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Typed',
      steps: { send: { type: 'Send', inputs: { to: '@triggerBody().email', count: 'three' } } },
    };
    const Send = defineHandler({
      input: z.object({ to: z.string().email(), count: z.number() }),
      execute: ({ inputs }) => `${inputs.to}:${inputs.count}`,
    });
    const { orchestrator, storage } = await engine({ flows: [flow], handlers: { Send } });
    const { runId } = await orchestrator.trigger(flow.id, { data: { email: 'not-an-email' } });
    const run = await waitForRun(storage, runId!);
    const message = run.steps![0]!.errorMessage!;
    expect(message).toMatch(/^Invalid inputs for step 'send' \(type 'Send'\): /);
    expect(message).toMatch(/to: /);
    expect(message).toMatch(/count: /);
  });
});

describe('engine: retries and polling', () => {
  it('retries a failing step per its policy; each retry is a new attempt and the run stays open', async () => {
    let calls = 0;
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Retry',
      steps: {
        flaky: { type: 'Flaky', retry: { maxAttempts: 4, delayMs: 5, backoff: 'fixed', jitter: 0 } },
        after: { type: 'Noop', runAfter: { flaky: ['Succeeded'] } },
      },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: {
        Noop: () => null,
        Flaky: ({ attempt }) => {
          calls++;
          if (attempt < 3) throw new Error(`try ${attempt} failed`);
          return { ok: attempt };
        },
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(calls).toBe(3);
    const flaky = run.steps!.find((s) => s.stepKey === 'flaky')!;
    expect(flaky.attempts.map((a) => a.status)).toEqual(['Pending', 'Pending', 'Succeeded']);
    expect(flaky.attempts[0]!.errorMessage).toMatch(/^Attempt 1 failed; retrying in 5 ms: try 1 failed/);
  });

  it('gives up after maxAttempts and fails the run', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'RetryExhausted',
      steps: { flaky: { type: 'Boom', retry: { maxAttempts: 2, delayMs: 1, jitter: 0 } } },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: {
        Boom: () => {
          throw new Error('always');
        },
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Failed');
    expect(run.steps![0]!.attempts.map((a) => a.status)).toEqual(['Pending', 'Failed']);
  });

  it('a Pending result re-runs the same step after its delay until it succeeds', async () => {
    let polls = 0;
    const flow: FlowDefinition = { id: flowId(), name: 'Poll', steps: { poll: { type: 'Poll' } } };
    const { orchestrator, storage, events } = await engine({
      flows: [flow],
      handlers: { Poll: () => (++polls < 3 ? StepResults.pending(5) : 'ready') },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(polls).toBe(3);
    expect(events.filter((e) => e.type === 'step.pending')).toHaveLength(2);
    expect(await storage.outputs.getStepOutput(runId!, 'poll')).toBe('ready');
  });

  it('manual retryStep re-runs a failed step and un-skips its cascade', async () => {
    let fail = true;
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'ManualRetry',
      steps: {
        a: { type: 'Maybe' },
        b: { type: 'Noop', runAfter: { a: ['Succeeded'] } },
        c: { type: 'Noop', runAfter: { b: ['Succeeded'] } },
      },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: { Noop: () => null, Maybe: () => (fail ? StepResults.failed('not yet') : 'ok') },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    expect((await waitForRun(storage, runId!)).status).toBe('Failed');
    fail = false;
    await orchestrator.retryStep(runId!, 'a');
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(statusesOf(run)).toEqual({ a: 'Succeeded', b: 'Succeeded', c: 'Succeeded' });
    expect(run.steps!.find((s) => s.stepKey === 'a')!.attemptCount).toBe(2);
  });
});

describe('engine: run control', () => {
  it('cancel aborts the running handler and closes the run Cancelled', async () => {
    let sawAbort = false;
    let started = false;
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Cancel',
      steps: { wait: { type: 'Wait' }, next: { type: 'Noop', runAfter: { wait: [] } } },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: {
        Noop: () => null,
        Wait: ({ signal }) =>
          new Promise((_, reject) => {
            started = true;
            signal.addEventListener('abort', () => {
              sawAbort = true;
              reject(signal.reason);
            });
          }),
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    await waitFor(() => started, 'the step to start');
    const result = await orchestrator.cancelRun(runId!, 'user asked');
    expect(result.accepted).toBe(true);
    const run = await waitForRun(storage, runId!);
    expect(sawAbort).toBe(true);
    expect(run.status).toBe('Cancelled');
    expect(statusesOf(run)).toEqual({ wait: 'Skipped' });
    expect(run.steps![0]!.errorMessage).toBe('Run is Cancelled.');
  });

  it('a parked step of a cancelled run is skipped when it wakes, and the run closes', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'Parked', steps: { p: { type: 'Park' } } };
    const { orchestrator, storage, events } = await fakeTimeEngine({
      flows: [flow],
      handlers: { Park: () => StepResults.pending(30_000) },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    // Parked for 30 s of fake time: it cannot wake before the cancel.
    await waitFor(() => events.some((e) => e.type === 'step.pending'), 'the step to park');
    const result = await orchestrator.cancelRun(runId!);
    // A parked step nobody executes is skipped by the cancel itself (else when it wakes).
    expect(result.accepted).toBe(true);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Cancelled');
    expect(run.steps![0]).toMatchObject({ status: 'Skipped', errorMessage: 'Run is Cancelled.' });
  });

  it('the deadline sweeper times out a run even while its step is parked', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'Deadline', steps: { p: { type: 'Slow' } } };
    const { orchestrator, storage, timers } = await fakeTimeEngine({
      flows: [flow],
      leaseMs: 600_000, // no lease renewal (which also notices deadlines) before the sweep
      handlers: {
        Slow: ({ signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      },
    });
    const { runId } = await orchestrator.trigger(flow.id, { timeoutMs: 30_000 });
    await timers.advance(29_999);
    expect((await orchestrator.runMaintenance()).timedOut).toBe(0);
    await timers.advance(1);
    const report = await orchestrator.runMaintenance();
    expect(report.timedOut).toBe(1);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('TimedOut');
    expect(run.steps![0]!.errorMessage).toBe('Run is TimedOut.');
  });

  it('idempotency keys dedupe triggers per flow and trigger key, case-insensitively', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'Idem', steps: { a: { type: 'Noop' } } };
    const { orchestrator } = await engine({ flows: [flow], handlers: { Noop: () => null } });
    const first = await orchestrator.trigger(flow.id, { headers: { 'Idempotency-Key': 'Order-1' } });
    const second = await orchestrator.trigger(flow.id, { headers: { 'idempotency-key': ' order-1 ' } });
    expect(second).toEqual({ runId: first.runId, duplicate: true, disabled: false });
  });

  it('a disabled flow refuses triggers', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'Off', steps: { a: { type: 'Noop' } } };
    const { orchestrator, storage } = await engine({ flows: [flow], handlers: { Noop: () => null } });
    await orchestrator.setFlowEnabled(flow.id, false);
    expect(await orchestrator.trigger(flow.id)).toEqual({ runId: null, duplicate: false, disabled: true });
    expect((await storage.runs.getRunsPage()).totalCount).toBe(0);
  });
});

describe('engine: start-up', () => {
  it('refuses to start with an invalid flow, listing every problem', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Broken',
      steps: { a: { type: 'X', runAfter: { b: [] } }, b: { type: '', runAfter: { a: [] } } },
    };
    await expect(startEngine({ flows: [flow] })).rejects.toThrow(/Broken.*(cycle|entry)/s);
  });

  it('syncs flows into the flow store and keeps the enabled flag across restarts', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Synced',
      version: '2',
      steps: { a: { type: 'Noop' } },
    };
    const first = await startEngine({ flows: [flow], handlers: { Noop: () => null } });
    await first.orchestrator.setFlowEnabled(flow.id, false);
    await first.orchestrator.stop();
    const second = await engine({ flows: [flow], handlers: { Noop: () => null }, storage: first.storage });
    const stored = await second.storage.flows.getById(flow.id);
    expect(stored).toMatchObject({ name: 'Synced', version: '2', isEnabled: false });
    expect(JSON.parse(stored!.manifestJson!).steps.a.type).toBe('Noop');
  });

  it('throws without storage', async () => {
    const { createFlowOrchestrator } = await import('@floworch/core');
    expect(() => createFlowOrchestrator({ flows: [] } as never)).toThrow(/storage/);
  });
});

describe('engine: re-run', () => {
  it('re-runs with the original payload and headers minus the idempotency key, linked by sourceRunId', async () => {
    const seen: unknown[] = [];
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Rerun',
      steps: { a: { type: 'Echo', inputs: { v: '@triggerBody().v', h: "@triggerHeaders()['x-tenant']" } } },
    };
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: { Echo: ({ inputs }) => void seen.push(inputs) },
    });
    const first = await orchestrator.trigger(flow.id, {
      data: { v: 1 },
      headers: { 'Idempotency-Key': 'k1', 'X-Tenant': 't9' },
    });
    await waitForRun(storage, first.runId!);
    const again = await orchestrator.rerun(first.runId!);
    expect(again.duplicate).toBe(false);
    expect(again.runId).not.toBe(first.runId);
    const rerun = await waitForRun(storage, again.runId!);
    expect(rerun.sourceRunId).toBe(first.runId);
    expect(seen).toEqual([
      { v: 1, h: 't9' },
      { v: 1, h: 't9' },
    ]);
    expect((await storage.runs.getDerivedRuns(first.runId!)).map((r) => r.id)).toEqual([again.runId]);
  });
});

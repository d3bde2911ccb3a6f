import { createInMemoryStorage } from '@floworch/inmemory';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowDefinition, FlowStorage } from '../../src/index.js';
import { flowId, sleep, startEngine, statusesOf, waitForRun } from './support.js';

/** Records every storage call made through it, with whether it came after `stopped` was set. */
function recording(storage: FlowStorage): {
  storage: FlowStorage;
  calls: string[];
  stopped: { value: boolean };
} {
  const calls: string[] = [];
  const stopped = { value: false };
  const wrap = <T extends object>(name: string, store: T): T =>
    new Proxy(store, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (stopped.value) calls.push(`${name}.${String(property)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const wrapped = { ...storage } as Record<string, unknown>;
  for (const key of [
    'flows',
    'runs',
    'outputs',
    'runtime',
    'queue',
    'control',
    'signals',
    'events',
  ] as const) {
    if (storage[key]) wrapped[key] = wrap(key, storage[key] as object);
  }
  wrapped.close = () => storage.close();
  return { storage: wrapped as unknown as FlowStorage, calls, stopped };
}

describe('engine lifecycle: stop, timeouts and failing storage', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  afterEach(() => {
    expect(unhandled, 'unhandled rejections').toEqual([]);
  });

  it('stop() hands a running step back at once and writes nothing after it resolves, even for a handler that ignores its signal', async () => {
    const shared = createInMemoryStorage();
    const flow: FlowDefinition = { id: flowId(), name: 'Stubborn', steps: { s: { type: 'Stubborn' } } };
    let started = 0;
    let finishedLate = false;
    const spy = recording(shared);
    const first = await startEngine({
      storage: spy.storage,
      flows: [flow],
      leaseMs: 60_000,
      shutdownGraceMs: 50,
      handlers: {
        Stubborn: async () => {
          started++;
          if (started === 1) {
            await sleep(400); // ignores the abort signal
            finishedLate = true;
            return 'late';
          }
          return 'fresh';
        },
      },
    });
    const { runId } = await first.orchestrator.trigger(flow.id);
    while (started === 0) await sleep(5);
    await first.orchestrator.stop();
    spy.stopped.value = true;
    // Another replica continues at once: no waiting for the 60 s lease.
    const second = await startEngine({
      storage: shared,
      flows: [flow],
      handlers: { Stubborn: () => 'fresh' },
      pollIntervalMs: 20,
    });
    const run = await waitForRun(shared, runId!, 2_000);
    expect(run.status).toBe('Succeeded');
    expect(await shared.outputs.getStepOutput(runId!, 's')).toBe('fresh');
    await sleep(450);
    expect(finishedLate).toBe(true);
    expect(spy.calls, 'storage calls after stop() resolved').toEqual([]);
    expect(await shared.outputs.getStepOutput(runId!, 's')).toBe('fresh');
    await second.orchestrator.stop();
  });

  it('a handler that never settles is timed out by its step timeout; the retry policy applies', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Hang',
      steps: {
        h: {
          type: 'Hang',
          timeoutMs: 60,
          retry: { maxAttempts: 2, delayMs: 10, backoff: 'fixed', jitter: 0 },
        },
      },
    };
    const aborted: string[] = [];
    const { orchestrator, storage } = await startEngine({
      flows: [flow],
      handlers: {
        Hang: ({ signal }) => {
          signal.addEventListener('abort', () => aborted.push(String((signal.reason as Error).message)));
          return new Promise(() => {});
        },
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Failed');
    const step = run.steps![0]!;
    expect(step.attemptCount).toBe(2);
    expect(step.errorMessage).toMatch(/timed out after 60 ms/);
    expect(aborted).toHaveLength(2);
    await orchestrator.stop();
  });

  it('a run past its deadline closes TimedOut although its handler never settles', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'Forever', steps: { f: { type: 'Forever' } } };
    const { orchestrator, storage } = await startEngine({
      flows: [flow],
      shutdownGraceMs: 10,
      handlers: { Forever: () => new Promise(() => {}) },
    });
    const { runId } = await orchestrator.trigger(flow.id, { timeoutMs: 40 });
    await sleep(80);
    expect((await orchestrator.runMaintenance()).timedOut).toBe(1);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('TimedOut');
    expect(statusesOf(run)).toEqual({ f: 'Skipped' });
    await orchestrator.stop();
  });

  it('storage errors while taking, starting or completing steps are retried, never unhandled', async () => {
    const real = createInMemoryStorage();
    const failures = { take: 2, startStep: 2, transact: 2 };
    const queue = real.queue;
    const flaky: FlowStorage = {
      ...real,
      queue: new Proxy(queue, {
        get(target, property) {
          const value: unknown = Reflect.get(target, property, target);
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            const name = String(property) as keyof typeof failures;
            if (name in failures && failures[name] > 0) {
              failures[name]--;
              return Promise.reject(new Error(`injected ${name} failure`));
            }
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      }),
      close: () => real.close(),
    };
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Flaky',
      steps: { a: { type: 'Work' }, b: { type: 'Work', runAfter: { a: ['Succeeded'] } } },
    };
    const { orchestrator } = await startEngine({
      storage: flaky,
      flows: [flow],
      handlers: { Work: ({ stepKey }) => stepKey },
      leaseMs: 300,
      pollIntervalMs: 20,
    });
    const { runId } = await orchestrator.trigger(flow.id);
    const run = await waitForRun(real, runId!, 5_000);
    expect(run.status).toBe('Succeeded');
    expect(statusesOf(run)).toEqual({ a: 'Succeeded', b: 'Succeeded' });
    await orchestrator.stop();
  });
});

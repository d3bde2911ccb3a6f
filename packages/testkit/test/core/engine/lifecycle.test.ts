import { type FlowDefinition, type FlowStorage, ManualClock } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { FakeTimers, waitFor } from '@floworch/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { flowId, startEngine, startFakeTimeEngine, statusesOf, T0, waitForRun } from './support.js';

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
    const clock = new ManualClock(T0);
    const timers = new FakeTimers(clock);
    const shared = createInMemoryStorage({ clock });
    const flow: FlowDefinition = { id: flowId(), name: 'Stubborn', steps: { s: { type: 'Stubborn' } } };
    let started = 0;
    let finishedLate = false;
    let finishLate!: () => void;
    const ignoresItsSignal = new Promise<void>((resolve) => {
      finishLate = resolve;
    });
    const spy = recording(shared);
    const first = await startEngine({
      storage: spy.storage,
      flows: [flow],
      timers,
      leaseMs: 60_000,
      shutdownGraceMs: 50,
      handlers: {
        Stubborn: async () => {
          started++;
          if (started === 1) {
            await ignoresItsSignal;
            finishedLate = true;
            return 'late';
          }
          return 'fresh';
        },
      },
    });
    const { runId } = await first.orchestrator.trigger(flow.id);
    await waitFor(() => started === 1, 'the handler to start');
    // The grace period and the short wait after the abort pass on fake time; the handler holds on.
    await timers.advanceUntil(first.orchestrator.stop(), 10);
    expect(clock.now().getTime() - T0.getTime()).toBeLessThan(60_000);
    spy.stopped.value = true;
    // Another replica continues at once: no waiting for the 60 s lease.
    const second = await startEngine({
      storage: shared,
      flows: [flow],
      timers,
      handlers: { Stubborn: () => 'fresh' },
    });
    const run = await waitForRun(shared, runId!, 2_000);
    expect(run.status).toBe('Succeeded');
    expect(await shared.outputs.getStepOutput(runId!, 's')).toBe('fresh');
    finishLate();
    await waitFor(() => finishedLate, 'the stubborn handler to return');
    await timers.advance(0); // let whatever the late return would write run
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
          timeoutMs: 60_000,
          retry: { maxAttempts: 2, delayMs: 10_000, backoff: 'fixed', jitter: 0 },
        },
      },
    };
    const aborted: string[] = [];
    const { orchestrator, storage, timers } = await startFakeTimeEngine({
      flows: [flow],
      handlers: {
        Hang: ({ signal }) => {
          signal.addEventListener('abort', () => aborted.push(String((signal.reason as Error).message)));
          return new Promise(() => {});
        },
      },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    await timers.advance(59_999);
    expect(aborted).toEqual([]);
    await timers.advance(1); // first attempt times out; the retry is due 10 s later
    expect(aborted).toHaveLength(1);
    expect((await storage.runs.getRunDetail(runId!))?.status).toBe('Running');
    await timers.advance(10_000 + 60_000); // second attempt starts and times out
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Failed');
    const step = run.steps![0]!;
    expect(step.attemptCount).toBe(2);
    expect(step.errorMessage).toMatch(/timed out after 60,?000 ms/);
    expect(aborted).toHaveLength(2);
    await orchestrator.stop();
  });

  it('a run past its deadline closes TimedOut although its handler never settles', async () => {
    const flow: FlowDefinition = { id: flowId(), name: 'Forever', steps: { f: { type: 'Forever' } } };
    const { orchestrator, storage, timers } = await startFakeTimeEngine({
      flows: [flow],
      shutdownGraceMs: 10,
      handlers: { Forever: () => new Promise(() => {}) },
    });
    const { runId } = await orchestrator.trigger(flow.id, { timeoutMs: 40_000 });
    await timers.advance(39_999);
    expect((await orchestrator.runMaintenance()).timedOut).toBe(0);
    await timers.advance(1);
    expect((await orchestrator.runMaintenance()).timedOut).toBe(1);
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('TimedOut');
    expect(statusesOf(run)).toEqual({ f: 'Skipped' });
    await timers.advanceUntil(orchestrator.stop(), 10);
  });

  it('storage errors while taking, starting or completing steps are retried, never unhandled', async () => {
    const clock = new ManualClock(T0);
    const timers = new FakeTimers(clock);
    const real = createInMemoryStorage({ clock });
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
      timers,
      leaseMs: 300,
    });
    const { runId } = await orchestrator.trigger(flow.id);
    // Take back-off, lease lapses and the idle poll all run on fake time.
    const run = await timers.advanceUntil(waitForRun(real, runId!, 5_000), 100);
    expect(run.status).toBe('Succeeded');
    expect(statusesOf(run)).toEqual({ a: 'Succeeded', b: 'Succeeded' });
    await orchestrator.stop();
  });
});

import { randomUUID } from 'node:crypto';
import { definePollingHandler, type FlowDefinition, StepResults } from '@floworch/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFlowTestHost, type FlowTestHost } from '../src/index.js';

const hosts: FlowTestHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.stop();
});
async function host(options: Parameters<typeof createFlowTestHost>[0]) {
  const h = await createFlowTestHost(options);
  hosts.push(h);
  return h;
}

describe('flow test host (fake time)', () => {
  it('runs a flow and exposes statuses, outputs and events', async () => {
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'Hello',
      steps: {
        a: { type: 'Echo', inputs: { v: '@triggerBody().v' } },
        b: { type: 'Echo', runAfter: { a: [] }, inputs: { v: "@steps('a').output" } },
      },
    };
    const h = await host({ flows: [flow], handlers: { Echo: ({ inputs }) => inputs.v } });
    const run = await h.trigger(flow.id, { data: { v: 42 } });
    expect((await run.completed()).status).toBe('Succeeded');
    expect(await run.statuses()).toEqual({ a: 'Succeeded', b: 'Succeeded' });
    expect(await run.output('b')).toBe(42);
    expect(run.events().at(-1)?.type).toBe('run.completed');
  });

  it('fires retry backoff without real waiting: a retry policy of 1 minute completes instantly', async () => {
    let calls = 0;
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'Backoff',
      steps: { a: { type: 'Flaky', retry: { maxAttempts: 3, delayMs: 60_000, jitter: 0 } } },
    };
    const h = await host({
      flows: [flow],
      handlers: { Flaky: () => (++calls < 3 ? StepResults.failed('later') : 'ok') },
    });
    const started = h.clock.now().getTime();
    const run = await h.trigger(flow.id);
    expect((await run.completed({ stepMs: 10_000 })).status).toBe('Succeeded');
    expect(calls).toBe(3);
    // 60 s then 120 s of backoff passed on the fake clock.
    expect(h.clock.now().getTime() - started).toBeGreaterThanOrEqual(180_000);
    expect((await run.step('a'))!.attemptCount).toBe(3);
  });

  it('polls every minute until the condition holds, keeping its state across polls', async () => {
    let status = 'pending';
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'Poll',
      steps: { wait: { type: 'AwaitShipment' } },
    };
    const AwaitShipment = definePollingHandler({
      fetch: () => ({ status }),
      until: (v) => v.status === 'delivered',
      intervalMs: 60_000,
      timeoutMs: 3_600_000,
    });
    const h = await host({ flows: [flow], handlers: { AwaitShipment } });
    const run = await h.trigger(flow.id);
    await h.advance(5 * 60_000);
    expect((await run.step('wait'))!.status).toBe('Pending');
    status = 'delivered';
    const done = await run.completed({ stepMs: 60_000 });
    expect(done.status).toBe('Succeeded');
    expect(await run.output('wait')).toEqual({ status: 'delivered' });
    expect((await run.step('wait'))!.attemptCount).toBeGreaterThanOrEqual(6);
  });

  it('a polling step times out with the reference message', async () => {
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'PollTimeout',
      steps: { wait: { type: 'Never', inputs: { pollIntervalSeconds: 30, pollTimeoutSeconds: 120 } } },
    };
    const Never = definePollingHandler({ fetch: () => ({ ready: false }), until: () => false });
    const h = await host({ flows: [flow], handlers: { Never } });
    const run = await h.trigger(flow.id);
    const done = await run.completed({ stepMs: 30_000 });
    expect(done.status).toBe('Failed');
    expect((await run.step('wait'))!.errorMessage).toBe('Polling timed out after 120 seconds.');
  });

  it('delivers signals and times out unsignalled waits on fake time', async () => {
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'Approve',
      steps: { approval: { type: 'WaitForSignal', inputs: { signalName: 'ok', timeoutSeconds: 3600 } } },
    };
    const h = await host({ flows: [flow] });
    const signalled = await h.trigger(flow.id);
    const waiting = await h.trigger(flow.id);
    await h.advance(1_000);
    expect((await h.signal(signalled.runId, 'ok', { by: 'boss' })).status).toBe('Delivered');
    expect((await signalled.completed()).status).toBe('Succeeded');
    expect(await signalled.output('approval')).toEqual({ by: 'boss' });
    const timedOut = await waiting.completed({ stepMs: 60_000 });
    expect(timedOut.status).toBe('Failed');
    expect((await waiting.step('approval'))!.errorMessage).toBe("Signal 'ok' not received within 3600s.");
  });

  it('the deadline sweeper times a run out while its step is parked', async () => {
    const flow: FlowDefinition = { id: randomUUID(), name: 'Deadline', steps: { park: { type: 'Park' } } };
    const h = await host({ flows: [flow], handlers: { Park: () => StepResults.pending(3_600_000) } });
    const run = await h.trigger(flow.id, { timeoutMs: 60_000 });
    const done = await run.completed({ stepMs: 15_000 });
    expect(done.status).toBe('TimedOut');
  });

  it('schedules Cron triggers with the orchestrator: fake time fires one run per tick', async () => {
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'EveryTenSeconds',
      triggers: { tick: { type: 'Cron', inputs: { cronExpression: '*/10 * * * * *' } } },
      steps: { a: { type: 'Work' } },
    };
    const h = await host({ flows: [flow], handlers: { Work: () => 1 } });
    await h.advance(35_000);
    const runs = (await h.storage.runs.getRunsPage({ flowId: flow.id })).runs;
    expect(runs.length).toBeGreaterThanOrEqual(3);
    expect(runs.length).toBeLessThanOrEqual(4);
    expect(runs.every((r) => r.triggerKey === 'tick')).toBe(true);
    expect(
      h.orchestrator
        .cronScheduler()
        ?.jobs()
        .map((j) => j.triggerKey),
    ).toEqual(['tick']);
  });
});

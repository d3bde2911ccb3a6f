import { randomUUID } from 'node:crypto';
import {
  createFlowOrchestrator,
  type FlowDefinition,
  type FlowOrchestrator,
  type InvalidArgumentError,
  StepResults,
  silentLogger,
} from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { waitFor } from '@floworch/testkit';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type BullMQRuntime, createBullMQRuntime, stepJobId } from '../src/index.js';
import { deletePrefix, redisUrl, requirement, uniquePrefix } from './support.js';

const req = requirement(false);

/** 1 → 3 parallel → 1. */
function fanFlow(): FlowDefinition {
  return {
    id: randomUUID(),
    name: 'Fan',
    steps: {
      start: { type: 'Work' },
      a: { type: 'Work', runAfter: { start: ['Succeeded'] } },
      b: { type: 'Work', runAfter: { start: ['Succeeded'] } },
      c: { type: 'Work', runAfter: { start: ['Succeeded'] } },
      join: { type: 'Work', runAfter: { a: ['Succeeded'], b: ['Succeeded'], c: ['Succeeded'] } },
    },
  };
}

describe.skipIf(req.skip)(`@floworch/bullmq in one process (${req.label})`, () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch(() => {});
  });

  /** An in-memory storage, its BullMQ runtime and `count` orchestrators on it. */
  async function setUp(
    flow: FlowDefinition,
    handlers: Parameters<typeof createFlowOrchestrator>[0]['handlers'],
    count = 1,
    extra: Partial<Parameters<typeof createBullMQRuntime>[0]> = {},
  ): Promise<{ bull: BullMQRuntime; orchestrators: FlowOrchestrator[]; prefix: string }> {
    const prefix = uniquePrefix();
    const bull = createBullMQRuntime({
      storage: createInMemoryStorage(),
      connection: redisUrl,
      prefix,
      logger: silentLogger,
      sweepIntervalMs: 200,
      redispatchAfterMs: 100,
      ...extra,
    });
    const orchestrators = Array.from({ length: count }, (_, i) =>
      createFlowOrchestrator({
        storage: bull.storage,
        runtime: bull.runtime,
        flows: [flow],
        handlers,
        logger: silentLogger,
        instanceId: `o${i}`,
        leaseMs: 1_000,
        shutdownGraceMs: 200,
      }),
    );
    cleanup.push(async () => {
      await bull.close();
      await deletePrefix(redisUrl, prefix);
    });
    for (const o of orchestrators) {
      cleanup.push(() => o.stop());
      await o.start();
    }
    return { bull, orchestrators, prefix };
  }

  /** One more orchestrator on `bull`, started now (stopped after the test). */
  async function startOrchestrator(
    bull: BullMQRuntime,
    flow: FlowDefinition,
    handlers: Parameters<typeof createFlowOrchestrator>[0]['handlers'],
  ): Promise<FlowOrchestrator> {
    const orchestrator = createFlowOrchestrator({
      storage: bull.storage,
      runtime: bull.runtime,
      flows: [flow],
      handlers,
      logger: silentLogger,
      leaseMs: 1_000,
    });
    cleanup.push(() => orchestrator.stop());
    await orchestrator.start();
    return orchestrator;
  }

  it('delivers every step as a job, records the job id on each step, and ends with an empty queue', async () => {
    const flow = fanFlow();
    const seen: string[] = [];
    const { bull, orchestrators } = await setUp(flow, {
      Work: ({ stepKey }) => {
        seen.push(stepKey);
        return { ok: stepKey };
      },
    });
    const run = await orchestrators[0]!.trigger(flow.id, { data: { n: 1 } });
    await run.result();
    expect(seen.sort()).toEqual(['a', 'b', 'c', 'join', 'start']);
    const detail = (await bull.storage.runs.getRunDetail(run.runId!))!;
    expect(detail.status).toBe('Succeeded');
    for (const step of detail.steps!) {
      expect(step.jobId, step.stepKey).toMatch(new RegExp(`^${run.runId}/${step.stepKey}#1@\\d+$`));
      expect(step.attempts[0]!.jobId).toBe(step.jobId);
    }
    // The client's views (what the dashboard shows) carry the job ids too.
    const view = await orchestrators[0]!.client.getRun(run.runId!);
    for (const step of view.steps) {
      expect(step.jobId, step.key).toMatch(new RegExp(`^${run.runId}/${step.key}#1@\\d+$`));
      expect(step.attempts.map((a) => a.jobId)).toEqual([step.jobId]);
    }
    await waitFor(async () => (await bull.metrics()).jobs.active === 0, 'no active jobs', {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    const metrics = await bull.metrics();
    expect(metrics.jobs).toEqual({ waiting: 0, delayed: 0, active: 0, failed: 0 });
    expect(metrics.pickupDelayMs.count).toBe(5);
    expect(metrics.pickupDelayMs.p50).toBeGreaterThanOrEqual(0);
  });

  it('retry backoff and Pending polls travel as delayed jobs; each attempt has its own job id', async () => {
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'Delays',
      steps: {
        flaky: { type: 'Flaky', retry: { maxAttempts: 3, delayMs: 300, backoff: 'fixed', jitter: 0 } },
        poll: { type: 'Poll', runAfter: { flaky: ['Succeeded'] } },
      },
    };
    let flakyCalls = 0;
    let polls = 0;
    const { bull, orchestrators } = await setUp(flow, {
      Flaky: () => {
        flakyCalls++;
        if (flakyCalls === 1) throw new Error('first try fails');
        return 'ok';
      },
      Poll: () => (++polls < 3 ? StepResults.pending(250) : 'done'),
    });
    const run = await orchestrators[0]!.trigger(flow.id);
    // While the retry waits, its job is delayed in Redis.
    await waitFor(async () => (await bull.metrics()).jobs.delayed === 1, 'a delayed job', {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    const started = Date.now();
    await run.result();
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(flakyCalls).toBe(2);
    expect(polls).toBe(3);
    const steps = (await bull.storage.runs.getRunDetail(run.runId!))!.steps!;
    const flaky = steps.find((s) => s.stepKey === 'flaky')!;
    expect(flaky.attempts.map((a) => a.jobId?.replace(/@\d+$/, ''))).toEqual([
      `${run.runId}/flaky#1`,
      `${run.runId}/flaky#2`,
    ]);
    const poll = steps.find((s) => s.stepKey === 'poll')!;
    expect(new Set(poll.attempts.map((a) => a.jobId)).size).toBe(3);
  });

  it('a job lost from Redis is dispatched again by the maintenance sweep from the flow storage', async () => {
    const flow = fanFlow();
    // No worker yet: trigger, then delete the waiting job behind the runtime's back.
    const { bull, prefix } = await setUp(flow, { Work: () => 'ok' }, 0, { sweepIntervalMs: 0 });
    const storage = bull.storage;
    const { runId } = await storage.queue!.startRun({
      run: { runId: randomUUID(), flowId: flow.id, flowName: flow.name, triggerKey: 'manual' },
      triggerHeaders: null,
      idempotencyKey: null,
      timeoutAt: null,
      events: [],
      entrySteps: ['start'],
    });
    const [row] = await storage.queue!.listDue!({ dueBefore: new Date(Date.now() + 1), limit: 5 });
    expect(row!.stepKey).toBe('start');
    const redis = new Redis(redisUrl);
    try {
      expect(await redis.exists(`${prefix}:steps:${stepJobId(row!)}`)).toBe(1);
      await redis.del(`${prefix}:steps:${stepJobId(row!)}`, `${prefix}:steps:wait`, `${prefix}:steps:marker`);
    } finally {
      redis.disconnect();
    }
    await new Promise((r) => setTimeout(r, 150));
    expect(await bull.sweep()).toEqual({ swept: true, checked: 1, redispatched: 1, rescued: 0 });
    expect(await bull.sweep()).toEqual({ swept: true, checked: 1, redispatched: 0, rescued: 0 });
    await startOrchestrator(bull, flow, { Work: () => 'ok' });
    await waitFor(
      async () => (await storage.runs.getRunDetail(runId))?.status === 'Succeeded',
      'the run to finish',
      { timeoutMs: 10_000, intervalMs: 50 },
    );
  });

  it('a job taken by a worker that died before claiming its step is delivered again under another id', async () => {
    const flow = fanFlow();
    const { bull, prefix } = await setUp(flow, { Work: () => 'ok' }, 0, {
      sweepIntervalMs: 0,
      stuckJobAfterMs: 500,
    });
    const storage = bull.storage;
    const { runId } = await storage.queue!.startRun({
      run: { runId: randomUUID(), flowId: flow.id, flowName: flow.name, triggerKey: 'manual' },
      triggerHeaders: null,
      idempotencyKey: null,
      timeoutAt: null,
      events: [],
      entrySteps: ['start'],
    });
    const [row] = await storage.queue!.listDue!({ dueBefore: new Date(Date.now() + 1), limit: 5 });
    const key = `${prefix}:steps:${stepJobId(row!)}`;
    const redis = new Redis(redisUrl);
    try {
      // As BullMQ leaves it when its worker dies mid-fetch: out of the wait list, processedOn set.
      await redis.del(`${prefix}:steps:wait`, `${prefix}:steps:marker`);
      await redis.hset(key, 'processedOn', String(Date.now() - 1_000));
    } finally {
      redis.disconnect();
    }
    await new Promise((r) => setTimeout(r, 150));
    expect(await bull.sweep()).toEqual({ swept: true, checked: 1, redispatched: 1, rescued: 1 });
    await startOrchestrator(bull, flow, { Work: () => 'ok' });
    await waitFor(
      async () => (await storage.runs.getRunDetail(runId))?.status === 'Succeeded',
      'the run to finish',
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    const start = (await storage.runs.getRunDetail(runId))!.steps!.find((s) => s.stepKey === 'start')!;
    expect(start.jobId).toMatch(/^.+#1@\d+!\d+$/);
  });

  it('duplicate deliveries execute a step once: the storage claim decides', async () => {
    const flow: FlowDefinition = { id: randomUUID(), name: 'Once', steps: { only: { type: 'Slow' } } };
    let calls = 0;
    const { bull, orchestrators } = await setUp(
      flow,
      {
        Slow: async () => {
          calls++;
          await new Promise((r) => setTimeout(r, 200));
          return 'ok';
        },
      },
      3,
    );
    const run = await orchestrators[0]!.trigger(flow.id);
    // The same row dispatched again under other ids (as a sweep or a retried add might).
    const [row] = await bull.storage.queue!.listDue!({
      dueBefore: new Date(Date.now() + 10_000),
      limit: 5,
    }).then((rows) =>
      rows.length > 0 ? rows : [{ runId: run.runId!, stepKey: 'only', attempt: 1, visibleAt: new Date() }],
    );
    for (let i = 0; i < 5; i++) {
      await bull.queue.add(
        'step',
        { runId: run.runId!, stepKey: 'only', attempt: row!.attempt, visibleAt: Date.now() },
        { jobId: `dup-${i}-${run.runId}`, removeOnComplete: true, removeOnFail: true },
      );
    }
    await run.result();
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1);
  });

  it('refuses an orchestrator whose storage is not the runtime’s wrapped storage', async () => {
    const prefix = uniquePrefix();
    const plain = createInMemoryStorage();
    const bull = createBullMQRuntime({ storage: plain, connection: redisUrl, prefix, logger: silentLogger });
    cleanup.push(() => bull.close());
    const orchestrator = createFlowOrchestrator({
      storage: plain,
      runtime: bull.runtime,
      flows: [fanFlow()],
      handlers: { Work: () => 1 },
      logger: silentLogger,
    });
    await expect(orchestrator.start()).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('wrapped'),
    } satisfies Partial<InvalidArgumentError>);
  });

  it('graceful stop hands a running step back; another orchestrator finishes the run', async () => {
    const flow: FlowDefinition = { id: randomUUID(), name: 'Handoff', steps: { long: { type: 'Long' } } };
    let starts = 0;
    let finish: (() => void) | undefined;
    const { orchestrators } = await setUp(
      flow,
      {
        Long: async ({ signal }) => {
          starts++;
          await new Promise<void>((resolve, reject) => {
            finish = resolve;
            signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
          });
          return 'done';
        },
      },
      2,
    );
    const [first, second] = orchestrators as [FlowOrchestrator, FlowOrchestrator];
    await second.stop();
    const run = await first.trigger(flow.id);
    await waitFor(() => starts === 1, 'the handler to start', { timeoutMs: 5_000, intervalMs: 50 });
    await second.start();
    await first.stop();
    await waitFor(() => starts === 2, 'the handler to start again on the other orchestrator', {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
    finish?.();
    const done = await run.result();
    expect(done.status).toBe('Succeeded');
  });

  it('cron: orchestrators in every process tick together, and each tick starts one run', async () => {
    const flow: FlowDefinition = {
      id: randomUUID(),
      name: 'Ticker',
      triggers: { everySecond: { type: 'Cron', inputs: { cronExpression: '* * * * * *' } } },
      steps: { tick: { type: 'Work' } },
    };
    const { bull } = await setUp(flow, { Work: () => 'tick' }, 3);
    await new Promise((r) => setTimeout(r, 3_500));
    const page = await bull.storage.runs.getRunsPage({ flowId: flow.id, take: 100 });
    expect(page.totalCount).toBeGreaterThanOrEqual(2);
    // One run per tick (the idempotency key cron:<job>:<tick>), whichever process fired first.
    const keys = await Promise.all(
      page.runs.map(async (r) => (await bull.storage.control!.getRunControl(r.id))?.idempotencyKey),
    );
    expect(keys.every((k) => k?.startsWith('cron:'))).toBe(true);
    expect(new Set(keys).size).toBe(page.runs.length);
  });
});

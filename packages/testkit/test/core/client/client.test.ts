import { randomUUID } from 'node:crypto';
import {
  createFlowClient,
  createFlowOrchestrator,
  type FlowDefinition,
  FlowDisabledError,
  type FlowOrchestrator,
  type FlowStorage,
  ManualClock,
  RunFailedError,
  RunNotFoundError,
  RunWaitTimeoutError,
  StepNotFoundError,
  StepResults,
  silentLogger,
  toFlowId,
} from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { waitFor } from '@floworch/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const running: FlowOrchestrator[] = [];
afterEach(async () => {
  for (const o of running.splice(0)) await o.stop();
});

/** A worker orchestrator on `storage` (the client under test is a separate object). */
async function worker(
  storage: FlowStorage,
  flows: FlowDefinition[],
  handlers: Record<string, never> | object,
) {
  const orchestrator = createFlowOrchestrator({
    storage,
    flows,
    handlers: handlers as never,
    logger: silentLogger,
    maintenanceIntervalMs: 0,
    pollIntervalMs: 20,
    // Short leases: a cancel from the client reaches a running handler at its next renewal.
    leaseMs: 900,
  });
  await orchestrator.start();
  running.push(orchestrator);
  return orchestrator;
}

const hello: FlowDefinition = {
  id: 'hello-flow',
  name: 'Hello',
  steps: {
    greet: { type: 'Greet', inputs: { name: '@triggerBody().name' } },
    shout: { type: 'Shout', runAfter: { greet: ['Succeeded'] }, inputs: { text: "@steps('greet').output" } },
  },
};
const helloHandlers = {
  Greet: ({ inputs }: { inputs: { name: string } }) => `hello ${inputs.name}`,
  Shout: ({ inputs }: { inputs: { text: string } }) => inputs.text.toUpperCase(),
};

describe('flow client: trigger and results', () => {
  it('triggers by slug, waits, and reads parsed inputs, outputs, attempts and events', async () => {
    const storage = createInMemoryStorage();
    await worker(storage, [hello], helloHandlers);
    const client = createFlowClient({ storage, logger: silentLogger });
    const run = await client.trigger('hello-flow', { data: { name: 'ada' } });
    expect(run).toEqual({ runId: expect.any(String), duplicate: false, disabled: false });
    const done = await run.result({ timeoutMs: 5_000 });
    expect(done.status).toBe('Succeeded');
    expect(done.flowId).toBe(toFlowId('hello-flow'));
    expect(done.outputs).toEqual({ greet: 'hello ada', shout: 'HELLO ADA' });
    expect(done.triggerData).toEqual({ name: 'ada' });
    const greet = done.steps.find((s) => s.key === 'greet')!;
    expect(greet).toMatchObject({ status: 'Succeeded', output: 'hello ada' });
    expect(greet.input).toBeTypeOf('object'); // parsed, not JSON text
    expect(greet.attempts).toHaveLength(1);
    expect(done.events.map((e) => e.type)).toContain('run.completed');
    expect(await client.getStep(run.runId!, 'shout')).toMatchObject({ output: 'HELLO ADA' });
  });

  it('dedupes by idempotency key and answers disabled flows without a run', async () => {
    const storage = createInMemoryStorage();
    await worker(storage, [hello], helloHandlers);
    const client = createFlowClient({ storage, flows: [hello], logger: silentLogger });
    const first = await client.trigger('hello-flow', { data: { name: 'a' }, idempotencyKey: 'order-1' });
    const again = await client.trigger('hello-flow', { data: { name: 'b' }, idempotencyKey: 'ORDER-1' });
    expect(again).toEqual({ runId: first.runId, duplicate: true, disabled: false });
    await client.setFlowEnabled('hello-flow', false);
    const refused = await client.trigger('hello-flow');
    expect(refused).toEqual({ runId: null, duplicate: false, disabled: true });
    await expect(refused.result()).rejects.toBeInstanceOf(FlowDisabledError);
  });

  it('result() rejects with RunFailedError carrying the failed steps', async () => {
    const storage = createInMemoryStorage();
    const flow: FlowDefinition = { id: 'failing', name: 'Failing', steps: { boom: { type: 'Boom' } } };
    await worker(storage, [flow], { Boom: () => StepResults.failed('card declined') });
    const client = createFlowClient({ storage, logger: silentLogger });
    const run = await client.trigger('failing');
    const error = await run.result({ timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toMatchObject({
      status: 'Failed',
      failedSteps: [{ stepKey: 'boom', status: 'Failed', error: 'card declined' }],
    });
    expect((error as Error).message).toContain("step 'boom' failed (card declined)");
    // waitForRun itself resolves with any terminal run.
    expect((await client.waitForRun(run.runId!)).status).toBe('Failed');
  });

  it('orchestrator.trigger keeps its fields and adds result()', async () => {
    const storage = createInMemoryStorage();
    const orchestrator = await worker(storage, [hello], helloHandlers);
    const run = await orchestrator.trigger('hello-flow', { data: { name: 'bo' } });
    expect(Object.keys(run).sort()).toEqual(['disabled', 'duplicate', 'runId']);
    expect((await run.result()).outputs.shout).toBe('HELLO BO');
    expect(orchestrator.client.waitForRun).toBeTypeOf('function');
  });

  it('waitForRun honours timeoutMs and an abort signal', async () => {
    const storage = createInMemoryStorage();
    const flow: FlowDefinition = { id: 'slow', name: 'Slow', steps: { wait: { type: 'Hang' } } };
    await worker(storage, [flow], {
      Hang: ({ signal }: { signal: AbortSignal }) => sleepUntilAborted(signal),
    });
    const client = createFlowClient({ storage, logger: silentLogger });
    const { runId } = await client.trigger('slow');
    await expect(client.waitForRun(runId!, { timeoutMs: 100 })).rejects.toBeInstanceOf(RunWaitTimeoutError);
    const controller = new AbortController();
    const waiting = client.waitForRun(runId!, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toThrow('caller gave up');
    await client.cancelRun(runId!);
    expect((await client.waitForRun(runId!, { timeoutMs: 5_000 })).status).toBe('Cancelled');
  });
});

function sleepUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) =>
    signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
  );
}

describe('flow client: operating runs', () => {
  it('cancels a run nobody executes at once (queued steps are skipped)', async () => {
    const storage = createInMemoryStorage();
    const client = createFlowClient({ storage, flows: [hello], logger: silentLogger });
    const { runId } = await client.trigger('hello-flow', { data: { name: 'x' } });
    expect(await client.cancelRun(runId!, 'not needed')).toEqual({ accepted: true, closedImmediately: true });
    const run = await client.getRun(runId!);
    expect(run.status).toBe('Cancelled');
    expect(run.steps.find((s) => s.key === 'greet')).toMatchObject({
      status: 'Skipped',
      error: 'Run is Cancelled.',
    });
    expect(await client.cancelRun(runId!)).toEqual({ accepted: false, closedImmediately: false });
  });

  it('retries a failed step to success and re-runs a run linked by sourceRunId', async () => {
    const storage = createInMemoryStorage();
    let calls = 0;
    const flow: FlowDefinition = {
      id: 'flaky',
      name: 'Flaky',
      steps: { a: { type: 'Flaky' }, b: { type: 'Echo', runAfter: { a: ['Succeeded'] } } },
    };
    await worker(storage, [flow], {
      Flaky: () => (++calls === 1 ? StepResults.failed('first try') : 'ok'),
      Echo: () => 'done',
    });
    const client = createFlowClient({ storage, logger: silentLogger });
    const { runId } = await client.trigger('flaky', { data: { n: 1 } });
    expect((await client.waitForRun(runId!, { timeoutMs: 5_000 })).status).toBe('Failed');
    await client.retryStep(runId!, 'a');
    const retried = await client.waitForRun(runId!, { timeoutMs: 5_000 });
    expect(retried.status).toBe('Succeeded');
    expect(retried.steps.find((s) => s.key === 'a')!.attempts.map((a) => a.status)).toEqual([
      'Failed',
      'Succeeded',
    ]);
    const again = await client.rerun(runId!);
    const rerun = await again.result({ timeoutMs: 5_000 });
    expect(rerun).toMatchObject({ sourceRunId: runId, triggerData: { n: 1 }, status: 'Succeeded' });
  });

  it('delivers a signal to a parked WaitForSignal step and wakes it', async () => {
    const storage = createInMemoryStorage();
    const flow: FlowDefinition = {
      id: 'approval',
      name: 'Approval',
      steps: {
        wait: { type: 'WaitForSignal', inputs: { signalName: 'approve' } },
        done: { type: 'Echo', runAfter: { wait: ['Succeeded'] }, inputs: { by: "@steps('wait').output.by" } },
      },
    };
    await worker(storage, [flow], { Echo: ({ inputs }: { inputs: unknown }) => inputs });
    const client = createFlowClient({ storage, logger: silentLogger });
    const { runId } = await client.trigger('approval');
    // The step registers its waiter when it first runs: signal until it is there.
    let result = await client.signal(runId!, 'approve', { by: 'ann' });
    await waitFor(async () => {
      if (result.status === 'NotFound') result = await client.signal(runId!, 'approve', { by: 'ann' });
      return result.status !== 'NotFound';
    }, 'the signal to find its waiter');
    expect(result.status).toBe('Delivered');
    const run = await client.waitForRun(runId!, { timeoutMs: 5_000 });
    expect(run.outputs.done).toEqual({ by: 'ann' });
  });

  it('every command on an unknown run or step fails with a typed error', async () => {
    const storage = createInMemoryStorage();
    const client = createFlowClient({ storage, flows: [hello], logger: silentLogger });
    const unknown = randomUUID();
    for (const call of [
      () => client.getRun(unknown),
      () => client.cancelRun(unknown),
      () => client.retryStep(unknown, 'greet'),
      () => client.rerun(unknown),
      () => client.signal(unknown, 'x'),
      () => client.extendDeadline(unknown, new Date()),
      () => client.getStep(unknown, 'greet'),
      () => client.getRunEvents(unknown),
      () => client.waitForRun(unknown),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(RunNotFoundError);
    }
    const { runId } = await client.trigger('hello-flow');
    await expect(client.retryStep(runId!, 'ghost')).rejects.toBeInstanceOf(StepNotFoundError);
    await expect(client.getStep(runId!, 'ghost')).rejects.toBeInstanceOf(StepNotFoundError);
    expect(await client.getStep(runId!, 'shout')).toBeNull(); // in the flow, not run yet
    await expect(client.getRun('nope')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      argument: 'runId',
    });
  });
});

describe('flow client: listing runs and schedules', () => {
  it('pages runs newest first with flow, status, search and time-range filters', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const storage = createInMemoryStorage({ clock });
    const other: FlowDefinition = { ...hello, id: 'other-flow', name: 'Other' };
    const client = createFlowClient({ storage, flows: [hello, other], logger: silentLogger });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      clock.advance(60_000);
      ids.push((await client.trigger(i % 2 === 0 ? 'hello-flow' : 'other-flow', { data: { i } })).runId!);
    }
    await client.cancelRun(ids[9]!);
    const all = await client.listRuns({ take: 3 });
    expect(all.total).toBe(10);
    expect(all.runs.map((r) => r.id)).toEqual([ids[9], ids[8], ids[7]]);
    expect((await client.listRuns({ flowId: 'other-flow' })).total).toBe(5);
    expect((await client.listRuns({ status: 'cancelled' })).runs.map((r) => r.id)).toEqual([ids[9]]);
    expect((await client.listRuns({ search: ids[4]!.slice(0, 13) })).runs.map((r) => r.id)).toEqual([ids[4]]);
    // Runs 3..6 started at minutes 4..7.
    const since = new Date(Date.UTC(2030, 0, 1, 0, 4));
    const until = new Date(Date.UTC(2030, 0, 1, 0, 8));
    const window = await client.listRuns({ since, until, take: 2, skip: 1 });
    expect(window.total).toBe(4);
    expect(window.runs.map((r) => r.id)).toEqual([ids[5], ids[4]]);
    const helloWindow = await client.listRuns({ flowId: 'hello-flow', since, until });
    expect(helloWindow.runs.map((r) => r.id)).toEqual([ids[6], ids[4]]);
    expect(helloWindow.runs[0]!.triggerData).toEqual({ i: 6 });
  });

  it('pauses, resumes and overrides cron schedules through the schedule store', async () => {
    const storage = createInMemoryStorage();
    const flow: FlowDefinition = {
      ...hello,
      id: 'nightly',
      triggers: { nightly: { type: 'Cron', inputs: { cronExpression: '0 2 * * *' } } },
    };
    const client = createFlowClient({ storage, flows: [flow], logger: silentLogger });
    await client.pauseSchedule('nightly', 'nightly');
    expect(await client.listSchedules()).toEqual([
      expect.objectContaining({ flowId: toFlowId('nightly'), isPaused: true, cron: '0 2 * * *' }),
    ]);
    await client.setScheduleCron('nightly', 'nightly', '0 3 * * *');
    await client.resumeSchedule('nightly', 'nightly');
    expect((await client.listSchedules())[0]).toMatchObject({ isPaused: false, cron: '0 3 * * *' });
    await expect(client.setScheduleCron('nightly', 'nightly', 'not cron')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(client.pauseSchedule('nightly', 'manual')).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});

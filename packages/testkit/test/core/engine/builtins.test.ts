import type { FlowDefinition, FlowOrchestrator, ForEachStepDefinition } from '@floworch/core';
import { StepResults } from '@floworch/core';
import { waitFor } from '@floworch/testkit';
import { afterEach, describe, expect, it } from 'vitest';
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

function loopFlow(concurrencyLimit: number): FlowDefinition {
  const loop: ForEachStepDefinition = {
    type: 'ForEach',
    forEach: '@triggerBody().orders',
    concurrencyLimit,
    steps: {
      price: {
        type: 'Price',
        inputs: { sku: '@loopItem().sku', qty: '@loopItem().qty', index: '@loopIndex()' },
      },
      pack: { type: 'Pack', runAfter: { price: ['Succeeded'] }, inputs: { total: "@steps('price').output" } },
    },
  };
  return {
    id: flowId(),
    name: 'Loop',
    steps: {
      start: { type: 'Noop' },
      orders: { ...loop, runAfter: { start: ['Succeeded'] } },
      summary: { type: 'Noop', runAfter: { orders: ['Succeeded'] } },
    },
  };
}

describe('ForEach', () => {
  it('runs each item through the child steps, at most concurrencyLimit iterations at once, then continues', async () => {
    let active = 0;
    let peak = 0;
    const priced: unknown[] = [];
    let summaryAfter = -1;
    const flow = loopFlow(2);
    const { orchestrator, storage } = await engine({
      flows: [flow],
      concurrency: 8,
      handlers: {
        Noop: ({ stepKey }) => {
          if (stepKey === 'summary') summaryAfter = priced.length;
        },
        Price: async ({ inputs, loop }) => {
          active++;
          peak = Math.max(peak, active);
          await sleep(5);
          active--;
          priced.push({ ...inputs, item: loop?.item });
          return (inputs.qty as number) * 10;
        },
        Pack: async ({ inputs }) => {
          await sleep(2);
          return { packed: inputs.total };
        },
      },
    });
    const orders = Array.from({ length: 5 }, (_, i) => ({ sku: `S${i}`, qty: i + 1 }));
    const { runId } = await orchestrator.trigger(flow.id, { data: { orders } });
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(peak).toBeLessThanOrEqual(2);
    expect(priced).toHaveLength(5);
    expect(summaryAfter).toBe(5);
    expect(priced).toContainEqual({ sku: 'S3', qty: 4, index: 3, item: { sku: 'S3', qty: 4 } });
    expect(await storage.outputs.getStepOutput(runId!, 'orders.3.pack')).toEqual({ packed: 40 });
    const statuses = statusesOf(run);
    expect(statuses.orders).toBe('Succeeded');
    expect(
      Object.keys(statuses)
        .filter((k) => k.startsWith('orders.'))
        .sort(),
    ).toHaveLength(10);
  });

  it('a failed iteration fails the loop; steps after it are skipped and the run fails', async () => {
    const flow = loopFlow(3);
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: {
        Noop: () => null,
        Price: ({ inputs }) => (inputs.sku === 'S1' ? StepResults.failed('no price') : 1),
        Pack: () => 'ok',
      },
    });
    const orders = [
      { sku: 'S0', qty: 1 },
      { sku: 'S1', qty: 1 },
      { sku: 'S2', qty: 1 },
    ];
    const { runId } = await orchestrator.trigger(flow.id, { data: { orders } });
    const run = await waitForRun(storage, runId!);
    const statuses = statusesOf(run);
    expect(statuses).toMatchObject({
      orders: 'Failed',
      'orders.1.price': 'Failed',
      'orders.1.pack': 'Skipped',
      summary: 'Skipped',
    });
    expect(statuses['orders.0.pack']).toBe('Succeeded');
    expect(run.status).toBe('Failed');
  });

  it('an empty collection succeeds at once with zero iterations', async () => {
    const flow = loopFlow(1);
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: { Noop: () => null, Price: () => 1, Pack: () => 1 },
    });
    const { runId } = await orchestrator.trigger(flow.id, { data: { orders: [] } });
    const run = await waitForRun(storage, runId!);
    expect(statusesOf(run)).toEqual({ start: 'Succeeded', orders: 'Succeeded', summary: 'Succeeded' });
    expect(await storage.outputs.getStepOutput(runId!, 'orders')).toEqual({ iterations: 0 });
  });
});

describe('WaitForSignal', () => {
  const approvalFlow = (timeoutSeconds?: number): FlowDefinition => ({
    id: flowId(),
    name: 'Approval',
    steps: {
      request: { type: 'Noop' },
      approval: {
        type: 'WaitForSignal',
        runAfter: { request: ['Succeeded'] },
        inputs: { signalName: 'approved', ...(timeoutSeconds ? { timeoutSeconds } : {}) },
      },
      ship: {
        type: 'Ship',
        runAfter: { approval: ['Succeeded'] },
        inputs: { by: "@steps('approval').output.by" },
      },
    },
  });

  it('parks until the signal arrives; the payload becomes the output; a second signal is AlreadyDelivered', async () => {
    const shipped: unknown[] = [];
    const flow = approvalFlow();
    const { orchestrator, storage } = await engine({
      flows: [flow],
      handlers: { Noop: () => null, Ship: ({ inputs }) => void shipped.push(inputs.by) },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    await waitFor(
      async () => !!(await storage.signals.getWaiter(runId!, 'approval')),
      'the step to wait for its signal',
    );
    expect((await storage.runs.getRunDetail(runId!))!.status).toBe('Running');
    expect((await orchestrator.signal(runId!, 'nope', {})).status).toBe('NotFound');
    const delivered = await orchestrator.signal(runId!, 'approved', { by: 'manager' });
    expect(delivered).toMatchObject({ status: 'Delivered', stepKey: 'approval' });
    const run = await waitForRun(storage, runId!);
    expect(run.status).toBe('Succeeded');
    expect(shipped).toEqual(['manager']);
    expect((await orchestrator.signal(runId!, 'approved', { by: 'late' })).status).toBe('AlreadyDelivered');
  });

  it('fails the step when no signal arrives within the timeout', async () => {
    const flow = approvalFlow(1);
    const { orchestrator, storage, timers } = await startFakeTimeEngine({
      flows: [flow],
      handlers: { Noop: () => null, Ship: () => null },
    });
    running.push(orchestrator);
    const { runId } = await orchestrator.trigger(flow.id);
    // The parked step wakes and gives up on fake time.
    const run = await timers.advanceUntil(waitForRun(storage, runId!, 8_000), 250);
    expect(run.status).toBe('Failed');
    expect(run.steps!.find((s) => s.stepKey === 'approval')!.errorMessage).toBe(
      "Signal 'approved' not received within 1s.",
    );
  });
});

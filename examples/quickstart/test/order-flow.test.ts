import { createFlowOrchestrator, silentLogger } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';
import { describe, expect, it } from 'vitest';
import { orderFlow, orderHandlers } from '../src/order-flow.js';
import { formatTimeline } from '../src/timeline.js';

async function runOrder(data: unknown) {
  const storage = createInMemoryStorage();
  const orchestrator = createFlowOrchestrator({
    storage,
    flows: [orderFlow],
    handlers: orderHandlers(1),
    logger: silentLogger,
    maintenanceIntervalMs: 0,
  });
  await orchestrator.start();
  try {
    const { runId } = await orchestrator.trigger(orderFlow.id, { data });
    for (;;) {
      const run = await storage.runs.getRunDetail(runId!);
      if (run && run.status !== 'Running') return run;
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    await orchestrator.stop();
  }
}

describe('quickstart order flow', () => {
  it('fulfils a gift-wrapped order, retrying the card charge once', async () => {
    const run = await runOrder({
      email: 'a@example.com',
      giftWrap: true,
      items: [{ sku: 'X', qty: 2, price: 5 }],
    });
    expect(run.status).toBe('Succeeded');
    const steps = Object.fromEntries(run.steps!.map((s) => [s.stepKey, s]));
    expect(steps.chargeCard!.attemptCount).toBe(2);
    expect(steps.giftWrap!.status).toBe('Succeeded');
    expect(steps.notify!.status).toBe('Succeeded');
    expect(formatTimeline(run)).toContain('chargeCard  (2 attempts)');
  });

  it('skips gift wrapping when the order does not ask for it', async () => {
    const run = await runOrder({
      email: 'b@example.com',
      giftWrap: false,
      items: [{ sku: 'Y', qty: 1, price: 3 }],
    });
    expect(run.status).toBe('Succeeded');
    expect(run.steps!.find((s) => s.stepKey === 'giftWrap')!.status).toBe('Skipped');
  });

  it('fails validation of a malformed order, naming the field', async () => {
    const run = await runOrder({ email: 'c@example.com', items: [{ sku: 'Z', qty: 0, price: 1 }] });
    expect(run.status).toBe('Failed');
    expect(run.steps!.find((s) => s.stepKey === 'validate')!.errorMessage).toMatch(/order\.items\.0\.qty/);
  });
});

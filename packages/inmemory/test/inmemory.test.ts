import { ManualClock } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import { createInMemoryStorage, createInMemoryWebhookRejectionStore } from '../src/index.js';

const rejection = (reason: string) => ({
  flowId: null,
  triggerKey: 'orders',
  receivedAt: new Date(0),
  remoteIp: null,
  reason,
  statusCode: 401,
  bodyBytes: 0,
  bodyTruncated: null,
  headersJson: null,
  scheme: null,
  processingMs: null,
  isAccepted: false,
});

// Behaviour specific to the in-memory backend; the shared contract is covered by the
// conformance suite in @floworch/testkit.
describe('@floworch/inmemory', () => {
  it('keeps only the newest N webhook rejections (ring buffer)', async () => {
    const storage = createInMemoryStorage({ dlqCapacity: 3 });
    for (const reason of ['a', 'b', 'c', 'd', 'e']) await storage.webhookRejections.write(rejection(reason));
    const page = await storage.webhookRejections.query({});
    expect(page.total).toBe(3);
    expect(page.items.map((r) => r.reason)).toEqual(['e', 'd', 'c']);
  });

  it('rejects a capacity that is not a positive integer, naming the option', () => {
    expect(() => createInMemoryStorage({ dlqCapacity: 0 })).toThrow(/dlqCapacity/);
    expect(() => createInMemoryStorage({ dlqCapacity: 1.5 })).toThrow(/dlqCapacity/);
  });

  it('peers share data but are separate objects, like two processes on one database', async () => {
    const storage = createInMemoryStorage();
    const peer = storage.createPeer();
    expect(peer).not.toBe(storage);
    const run = await storage.runs.startRun({
      runId: crypto.randomUUID(),
      flowId: crypto.randomUUID(),
      flowName: 'f',
      triggerKey: 'manual',
    });
    expect((await peer.runs.getRunDetail(run.id))?.flowName).toBe('f');
    expect(await peer.runs.tryRecordDispatch(run.id, 'a')).toBe(true);
    expect(await storage.runs.tryRecordDispatch(run.id, 'a')).toBe(false);
  });

  it('stamps times from the injected clock', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const storage = createInMemoryStorage({ clock });
    clock.advance(1234);
    const run = await storage.runs.startRun({
      runId: crypto.randomUUID(),
      flowId: crypto.randomUUID(),
      flowName: 'f',
      triggerKey: 'manual',
    });
    expect(run.startedAt.getTime()).toBe(Date.UTC(2030, 0, 1) + 1234);
  });

  it('standalone webhook stores work without a full backend', async () => {
    const log = createInMemoryWebhookRejectionStore({ capacity: 2 });
    await log.write(rejection('x'));
    expect((await log.queryRecent(null, 'X', true, 0, 10)).length).toBe(1);
  });

  it("a run's reads see only its own steps among thousands of runs", async () => {
    const storage = createInMemoryStorage();
    const flowId = crypto.randomUUID();
    for (let i = 0; i < 2000; i++) {
      const run = await storage.runs.startRun({
        runId: crypto.randomUUID(),
        flowId,
        flowName: 'f',
        triggerKey: 'manual',
      });
      await storage.runs.recordStepStart({ runId: run.id, stepKey: 's', stepType: 'Work' });
    }
    const target = await storage.runs.startRun({
      runId: crypto.randomUUID(),
      flowId,
      flowName: 'f',
      triggerKey: 'manual',
    });
    await storage.runs.recordStepStart({ runId: target.id, stepKey: 'mine', stepType: 'Work' });
    const statuses = await storage.runtime.getStepStatuses(target.id);
    expect([...statuses.keys()]).toEqual(['mine']);
  });
});

import { randomUUID } from 'node:crypto';
import {
  type CleanupOptions,
  createRetentionSweeper,
  type FlowStorage,
  InvalidArgumentError,
  type RetentionSweeper,
  silentLogger,
} from '@floworch/core';
import type { InMemoryStorage } from '@floworch/inmemory';
import { FakeTimers } from '@floworch/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeTimeStorage, flowId, recordingLogger } from './support.js';

const DAY = 86_400_000;
const sweepers: RetentionSweeper[] = [];
afterEach(async () => {
  for (const s of sweepers.splice(0)) await s.stop();
});

async function addRun(storage: InMemoryStorage, flow: string, finish: boolean): Promise<string> {
  const runId = randomUUID();
  await storage.runs.startRun({ runId, flowId: flow, flowName: 'Demo', triggerKey: 'manual' });
  if (finish) await storage.runs.completeRun(runId, 'Succeeded');
  return runId;
}

/** Storage whose retention store records the options of every cleanup call. */
function spyOnCleanup(storage: InMemoryStorage) {
  const calls: Array<{ cutoff: Date; options?: CleanupOptions }> = [];
  const retention = storage.retention;
  const spied: FlowStorage = {
    ...storage,
    retention: {
      cleanup: (cutoff, options) => {
        calls.push({ cutoff, options });
        return retention.cleanup(cutoff, options);
      },
    },
  };
  return { spied, calls };
}

describe('retention sweeper', () => {
  it('deletes only finished runs older than the TTL, in batches, and keeps the strict cutoff', async () => {
    const { clock, storage } = fakeTimeStorage();
    const flow = flowId();
    const old = await Promise.all(Array.from({ length: 7 }, () => addRun(storage, flow, true)));
    const stillRunning = await addRun(storage, flow, false);
    clock.advance(2 * DAY);
    const atCutoff = await addRun(storage, flow, true);
    clock.advance(3 * DAY);
    const fresh = await addRun(storage, flow, true);

    const { spied, calls } = spyOnCleanup(storage);
    const sweeper = createRetentionSweeper({
      storage: spied,
      ttlMs: 3 * DAY,
      intervalMs: DAY,
      batchSize: 3,
      logger: silentLogger,
    });
    const report = await sweeper.sweepNow();

    expect(report).toMatchObject({ runsDeleted: 7, noncesPurged: 0, rejectionsPurged: 0, failures: [] });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.cutoff).toEqual(new Date(clock.now().getTime() - 3 * DAY));
    expect(calls[0]?.options?.batchSize).toBe(3);
    expect(calls[0]?.options?.signal).toBeInstanceOf(AbortSignal);
    for (const id of old) expect(await storage.runs.getRunDetail(id)).toBeNull();
    for (const id of [stillRunning, atCutoff, fresh])
      expect(await storage.runs.getRunDetail(id)).not.toBeNull();
  });

  it('uses a default batch of 500 runs', async () => {
    const { storage } = fakeTimeStorage();
    const { spied, calls } = spyOnCleanup(storage);
    await createRetentionSweeper({ storage: spied, ttlMs: DAY, intervalMs: DAY }).sweepNow();
    expect(calls[0]?.options?.batchSize).toBe(500);
  });

  it('purges expired webhook nonces and, with a TTL, old webhook rejections', async () => {
    const { clock, storage } = fakeTimeStorage();
    const flow = flowId();
    await storage.webhookReplay.tryRegister(flow, 'hook', 'expired', new Date(clock.now().getTime() + 1_000));
    await storage.webhookReplay.tryRegister(flow, 'hook', 'live', new Date(clock.now().getTime() + 10 * DAY));
    const rejection = {
      flowId: flow,
      triggerKey: 'hook',
      receivedAt: clock.now(),
      remoteIp: null,
      reason: 'invalid_signature',
      statusCode: 401,
      bodyBytes: 0,
      bodyTruncated: null,
      headersJson: null,
      scheme: null,
      processingMs: null,
      isAccepted: false,
    };
    await storage.webhookRejections.write(rejection);
    clock.advance(2 * DAY);
    await storage.webhookRejections.write({ ...rejection, receivedAt: clock.now() });

    const keepRejections = createRetentionSweeper({ storage, ttlMs: DAY, intervalMs: DAY });
    expect(await keepRejections.sweepNow()).toMatchObject({ noncesPurged: 1, rejectionsPurged: 0 });
    expect(
      await storage.webhookReplay.tryRegister(flow, 'hook', 'expired', new Date(clock.now().getTime() + DAY)),
    ).toBe(true);
    expect(
      await storage.webhookReplay.tryRegister(flow, 'hook', 'live', new Date(clock.now().getTime() + DAY)),
    ).toBe(false);

    const withRejections = createRetentionSweeper({
      storage,
      ttlMs: DAY,
      intervalMs: DAY,
      webhookRejectionTtlMs: DAY,
    });
    expect(await withRejections.sweepNow()).toMatchObject({ rejectionsPurged: 1 });
    expect((await storage.webhookRejections.query({})).total).toBe(1);
  });

  it('logs a failing store and still runs the other parts', async () => {
    const { storage } = fakeTimeStorage();
    const logger = recordingLogger();
    const broken: FlowStorage = {
      ...storage,
      retention: { cleanup: () => Promise.reject(new Error('deadlock victim')) },
    };
    const purge = vi.spyOn(storage.webhookReplay, 'purgeExpired');
    const report = await createRetentionSweeper({
      storage: broken,
      ttlMs: DAY,
      intervalMs: DAY,
      logger,
    }).sweepNow();
    expect(report.runsDeleted).toBe(0);
    expect(report.failures.map((f) => f.target)).toEqual(['runs']);
    expect(purge).toHaveBeenCalledOnce();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'error', message: 'retention cleanup failed for runs' }),
    );
  });

  it('sweeps on start and then every interval through the injected timers; a failure never escapes', async () => {
    const { storage } = fakeTimeStorage();
    const timers = new FakeTimers();
    const onSweep = vi.fn();
    let fail = true;
    const flaky: FlowStorage = {
      ...storage,
      retention: {
        cleanup: (cutoff, options) =>
          fail ? Promise.reject(new Error('boom')) : storage.retention.cleanup(cutoff, options),
      },
    };
    const sweeper = createRetentionSweeper({
      storage: flaky,
      ttlMs: DAY,
      intervalMs: 60_000,
      timers,
      onSweep,
      logger: silentLogger,
    });
    sweepers.push(sweeper);
    sweeper.start();
    expect(timers.delays()).toEqual([0]);
    timers.fireAll();
    await vi.waitFor(() => expect(onSweep).toHaveBeenCalledTimes(1));
    expect(onSweep.mock.calls[0]?.[0].failures).toHaveLength(1);
    await vi.waitFor(() => expect(timers.delays()).toEqual([60_000]));
    fail = false;
    timers.fireAll();
    await vi.waitFor(() => expect(onSweep).toHaveBeenCalledTimes(2));
    expect(onSweep.mock.calls[1]?.[0].failures).toEqual([]);
    await sweeper.stop();
    await vi.waitFor(() => expect(timers.delays()).toEqual([]));
  });

  it('stop() aborts a sweep in progress through the cleanup signal', async () => {
    const { storage } = fakeTimeStorage();
    let seen: AbortSignal | undefined;
    const slow: FlowStorage = {
      ...storage,
      retention: {
        cleanup: (_cutoff, options) =>
          new Promise((_, reject) => {
            seen = options?.signal;
            options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
          }),
      },
    };
    const timers = new FakeTimers();
    const onSweep = vi.fn();
    const sweeper = createRetentionSweeper({
      storage: slow,
      ttlMs: DAY,
      intervalMs: DAY,
      timers,
      onSweep,
      logger: silentLogger,
    });
    sweeper.start();
    timers.fireAll();
    await vi.waitFor(() => expect(seen).toBeDefined());
    await sweeper.stop();
    expect(seen?.aborted).toBe(true);
    expect(onSweep.mock.calls[0]?.[0]).toMatchObject({ runsDeleted: 0, failures: [] });
    expect(timers.delays()).toEqual([]);
  });

  it('rejects nonsensical settings', () => {
    const { storage } = fakeTimeStorage();
    expect(() => createRetentionSweeper({ storage, ttlMs: 0, intervalMs: DAY })).toThrow(
      InvalidArgumentError,
    );
    expect(() => createRetentionSweeper({ storage, ttlMs: DAY, intervalMs: -1 })).toThrow(/intervalMs/);
    expect(() => createRetentionSweeper({ storage, ttlMs: DAY, intervalMs: DAY, batchSize: 2.5 })).toThrow(
      /batchSize/,
    );
  });
});

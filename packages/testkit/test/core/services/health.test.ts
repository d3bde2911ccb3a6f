import type { FlowStorage } from '@floworch/core';
import { checkStorageHealth, STORAGE_HEALTH_CHECK } from '@floworch/core';
import { FakeTimers } from '@floworch/testkit';
import { describe, expect, it } from 'vitest';
import { fakeTimeStorage } from './support.js';

describe('storage health check', () => {
  it('is healthy when ping answers', async () => {
    const { storage } = fakeTimeStorage();
    const health = await checkStorageHealth(storage);
    expect(health).toMatchObject({ status: 'healthy', probe: 'ping' });
    expect(health.error).toBeUndefined();
    expect(health.latencyMs).toBeGreaterThanOrEqual(0);
    expect(STORAGE_HEALTH_CHECK.name).toBe('flow-orchestrator-storage');
  });

  it('falls back to a cheap read when the backend has no ping', async () => {
    const { storage } = fakeTimeStorage();
    const { ping: _ping, ...withoutPing } = storage;
    const health = await checkStorageHealth(withoutPing as FlowStorage);
    expect(health).toMatchObject({ status: 'healthy', probe: 'flows.getAll' });
  });

  it('is unhealthy when the probe fails', async () => {
    const { storage } = fakeTimeStorage();
    const failing: FlowStorage = {
      ...storage,
      ping: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:5432')),
    };
    const health = await checkStorageHealth(failing);
    expect(health).toMatchObject({
      status: 'unhealthy',
      error: 'Storage is unreachable: ECONNREFUSED 127.0.0.1:5432',
    });
  });

  it('is unhealthy after the timeout when ping hangs, and aborts the probe', async () => {
    const { storage } = fakeTimeStorage();
    let signal: AbortSignal | undefined;
    const hanging: FlowStorage = {
      ...storage,
      ping: (s) => {
        signal = s;
        return new Promise<void>(() => {});
      },
    };
    const timers = new FakeTimers();
    const pending = checkStorageHealth(hanging, { timeoutMs: 1_500, timers });
    expect(timers.delays()).toEqual([1_500]);
    await timers.advance(1_500);
    const health = await pending;
    expect(health).toMatchObject({ status: 'unhealthy', error: 'Storage probe timed out after 1,500 ms.' });
    // The latency is measured on the injected timers' clock, so it is exact on fake time.
    expect(health.latencyMs).toBe(1_500);
    expect(signal?.aborted).toBe(true);
  });

  it('propagates caller cancellation', async () => {
    const { storage } = fakeTimeStorage();
    const hanging: FlowStorage = { ...storage, ping: () => new Promise<void>(() => {}) };
    const controller = new AbortController();
    const pending = checkStorageHealth(hanging, { signal: controller.signal });
    controller.abort(new Error('request closed'));
    await expect(pending).rejects.toThrow('request closed');
  });
});

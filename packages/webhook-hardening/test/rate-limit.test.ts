import { ManualClock } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import { TokenBucketRateLimiter } from '../src/index.js';
import { harness } from './harness.js';
import { FLOW_ID, post } from './helpers.js';

describe('TokenBucketRateLimiter', () => {
  const setup = () => {
    const clock = new ManualClock(0);
    return { clock, limiter: new TokenBucketRateLimiter({ clock, sweepIntervalMs: 10_000 }) };
  };

  it('a zero rate always allows', () => {
    const { limiter } = setup();
    for (let i = 0; i < 5; i++) expect(limiter.tryAcquire('k', { permitsPerSecond: 0 }).allowed).toBe(true);
  });

  it('burst 3 at 1/s: allow, allow, allow, deny', () => {
    const { limiter } = setup();
    const results = [1, 2, 3, 4].map(
      () => limiter.tryAcquire('k', { permitsPerSecond: 1, burst: 3 }).allowed,
    );
    expect(results).toEqual([true, true, true, false]);
  });

  it('keys are independent', () => {
    const { limiter } = setup();
    const policy = { permitsPerSecond: 1, burst: 1 };
    expect(limiter.tryAcquire('A', policy).allowed).toBe(true);
    expect(limiter.tryAcquire('B', policy).allowed).toBe(true);
    expect(limiter.tryAcquire('A', policy).allowed).toBe(false);
  });

  it('refills fractionally: 0.5/s gives one token every two seconds', () => {
    const { clock, limiter } = setup();
    const policy = { permitsPerSecond: 0.5 };
    expect(limiter.tryAcquire('k', policy).allowed).toBe(true);
    const denied = limiter.tryAcquire('k', policy);
    expect(denied).toEqual({ allowed: false, retryAfterMs: 2000 });
    clock.advance(1000);
    expect(limiter.tryAcquire('k', policy)).toEqual({ allowed: false, retryAfterMs: 1000 });
    clock.advance(1000);
    expect(limiter.tryAcquire('k', policy).allowed).toBe(true);
  });

  it('rebuilds a bucket when its policy changes', () => {
    const { limiter } = setup();
    expect(limiter.tryAcquire('k', { permitsPerSecond: 1, burst: 1 }).allowed).toBe(true);
    expect(limiter.tryAcquire('k', { permitsPerSecond: 1, burst: 1 }).allowed).toBe(false);
    // A larger burst does not mint tokens out of thin air, but the new rate applies.
    expect(limiter.tryAcquire('k', { permitsPerSecond: 10, burst: 5 }).allowed).toBe(false);
  });

  it('evicts buckets that have refilled completely', () => {
    const { clock, limiter } = setup();
    for (let i = 0; i < 50; i++) limiter.tryAcquire(`key-${i}`, { permitsPerSecond: 1, burst: 2 });
    expect(limiter.size).toBe(50);
    clock.advance(10_000);
    // The sweep is incremental: each call examines a small batch, never the whole map.
    for (let i = 0; i < 3; i++) limiter.tryAcquire('fresh', { permitsPerSecond: 1, burst: 2 });
    expect(limiter.size).toBe(1);
  });
});

describe('rate-limit gate', () => {
  it('answers 429 with Retry-After, per flow', async () => {
    const h = harness({ rateLimit: { permitsPerSecond: 1, burst: 2 } });
    const target = { flowId: FLOW_ID, triggerKey: 'webhook', security: {} };
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await h.pipeline.evaluate(post('{}'), target));
    expect(statuses.map((d) => d.status)).toEqual([200, 200, 429]);
    expect(statuses[2]).toMatchObject({ reason: 'rate_limited', headers: { 'Retry-After': '1' } });
    expect(h.logs.find((l) => l.eventId === 4003)?.fields).toMatchObject({ clientKey: FLOW_ID });
  });

  it('per IP: separate buckets per client address; a trigger setting replaces the global one', async () => {
    const h = harness({ rateLimit: { permitsPerSecond: 100 } });
    const target = {
      flowId: FLOW_ID,
      triggerKey: 'webhook',
      security: { rateLimit: { permitsPerSecond: 1, burst: 1, perIp: true } },
    };
    const from = (ip: string) => h.pipeline.evaluate(post('{}'), target, { remoteAddress: ip });
    expect((await from('10.0.0.1')).status).toBe(200);
    expect((await from('10.0.0.2')).status).toBe(200);
    expect((await from('::ffff:10.0.0.1')).status).toBe(429);
  });
});

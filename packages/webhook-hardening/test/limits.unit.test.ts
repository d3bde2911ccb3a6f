/** Unit tests for the building blocks behind issue 15's cost and abuse limits. */
import { ManualClock } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import {
  CidrMatcher,
  DEFAULT_DLQ_LIMITS,
  DlqSampler,
  exceedsJsonDepth,
  rateLimitClientKey,
  readBodyWithCap,
  resolveClientIp,
  TokenBucketRateLimiter,
} from '../src/index.js';
import { harness } from './harness.js';
import { FLOW_ID, post } from './helpers.js';

describe('JSON nesting limit', () => {
  it('counts brackets outside strings only', () => {
    expect(exceedsJsonDepth('[[[]]]', 3)).toBe(false);
    expect(exceedsJsonDepth('[[[[]]]]', 3)).toBe(true);
    expect(exceedsJsonDepth('{"a":"[[[[[[[[","b":"\\"[[[["}', 1)).toBe(false);
    expect(exceedsJsonDepth(`${'['.repeat(1_000_000)}`, 64)).toBe(true);
  });
});

describe('body read deadline', () => {
  it('gives up on a body that stops arriving', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
      },
    });
    const request = new Request('https://x.test/', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await readBodyWithCap(request, 1000, 50)).toEqual({
      ok: false,
      problem: 'timeout',
      bytesSeen: 10,
    });
  });
});

describe('DLQ sampler', () => {
  it('writes the first rows of each window per flow and reason, then one in sampleEvery', () => {
    const sampler = new DlqSampler({
      ...DEFAULT_DLQ_LIMITS,
      maxRowsPerWindow: 2,
      sampleEvery: 3,
      windowMs: 1000,
    });
    const admitted = Array.from({ length: 8 }, () => sampler.admit('f', 'digest_mismatch', 0));
    expect(admitted).toEqual([true, true, false, false, true, false, false, true]);
    expect(sampler.admit('f', 'nonce_seen', 0)).toBe(true); // another reason has its own budget
    expect(sampler.admit('g', 'digest_mismatch', 0)).toBe(true); // and another flow
    expect(sampler.admit('f', 'digest_mismatch', 1000)).toBe(true); // a new window
  });

  it('drops rows past the cap and counts them', async () => {
    const h = harness({ dlq: { maxRowsPerWindow: 1, sampleEvery: 0 } });
    const target = { flowId: FLOW_ID, triggerKey: 'webhook', security: { sharedSecret: 'k' } };
    for (let i = 0; i < 5; i++) await h.pipeline.evaluate(post('{}'), target);
    expect(await h.rows()).toHaveLength(1);
    expect(h.metrics.count('webhook_dlq_dropped_total', { reason: 'shared_key_invalid' })).toBe(4);
  });
});

describe('client address behind trusted proxies', () => {
  const proxies = { trustedProxies: new CidrMatcher(['10.0.0.0/8']) };
  const xff = (value: string) => new Headers({ 'x-forwarded-for': value });

  it('walks from the right past trusted proxies', () => {
    expect(resolveClientIp(xff('203.0.113.7, 10.0.0.2'), '10.0.0.1', proxies)).toBe('203.0.113.7');
    expect(resolveClientIp(xff('1.1.1.1, 203.0.113.7, 10.0.0.2'), '10.0.0.1', proxies)).toBe('203.0.113.7');
    expect(resolveClientIp(xff('10.0.0.9, 10.0.0.2'), '10.0.0.1', proxies)).toBe('10.0.0.9');
  });

  it('falls back to the socket address for malformed chains, untrusted peers or too many hops', () => {
    expect(resolveClientIp(xff('203.0.113.7, junk'), '10.0.0.1', proxies)).toBe('10.0.0.1');
    expect(resolveClientIp(xff(''), '10.0.0.1', proxies)).toBe('10.0.0.1');
    expect(resolveClientIp(xff('203.0.113.7'), '198.51.100.1', proxies)).toBe('198.51.100.1');
    expect(resolveClientIp(xff('203.0.113.7, 10.0.0.2'), '10.0.0.1', { ...proxies, maxHops: 1 })).toBe(
      '10.0.0.1',
    );
    expect(resolveClientIp(xff('203.0.113.7'), '10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('rate limiter keys and bounds', () => {
  it('keys IPv6 by /64 and IPv4 by address (mapped IPv4 as IPv4)', () => {
    expect(rateLimitClientKey('2001:db8:a:b:1:2:3:4')).toBe('2001:db8:a:b::/64');
    expect(rateLimitClientKey('2001:db8:a:b::ffff')).toBe('2001:db8:a:b::/64');
    expect(rateLimitClientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(rateLimitClientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('never holds more than maxKeys buckets, evicting the least recently used', () => {
    const limiter = new TokenBucketRateLimiter({ clock: new ManualClock(0), maxKeys: 3 });
    const policy = { permitsPerSecond: 1, burst: 1 };
    for (const key of ['a', 'b', 'c']) limiter.tryAcquire(key, policy);
    limiter.tryAcquire('a', policy); // refused, but now most recently used
    limiter.tryAcquire('d', policy); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.tryAcquire('a', policy).allowed).toBe(false); // a kept its empty bucket
    expect(limiter.tryAcquire('b', policy).allowed).toBe(true); // b starts over
  });

  it('sweeps idle buckets a batch at a time', () => {
    const clock = new ManualClock(0);
    const limiter = new TokenBucketRateLimiter({ clock, sweepIntervalMs: 1000, sweepBatch: 10 });
    for (let i = 0; i < 100; i++) limiter.tryAcquire(`k${i}`, { permitsPerSecond: 1, burst: 1 });
    clock.advance(5000);
    limiter.tryAcquire('x', { permitsPerSecond: 1, burst: 1 });
    expect(limiter.size).toBe(91); // one batch of 10 dropped, x added
    for (let i = 0; i < 10; i++) limiter.tryAcquire('x', { permitsPerSecond: 1, burst: 1 });
    expect(limiter.size).toBe(1);
  });
});

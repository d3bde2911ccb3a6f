import { ManualClock } from '@floworch/core';
import { describe, expect, it } from 'vitest';
import { FakeTimers, waitFor } from '../src/index.js';

const T0 = new Date('2030-01-01T00:00:00.000Z');

describe('FakeTimers', () => {
  it('fires timers in due order, each at its own instant, only when advanced', async () => {
    const clock = new ManualClock(T0);
    const timers = new FakeTimers(clock);
    const fired: Array<[string, number]> = [];
    const at = (name: string) => () => fired.push([name, clock.now().getTime() - T0.getTime()]);
    timers.setTimeout(at('late'), 300);
    timers.setTimeout(at('early'), 100);
    const cleared = timers.setTimeout(at('cleared'), 200);
    timers.clearTimeout(cleared);
    expect(timers.delays()).toEqual([300, 100]);
    await timers.advance(99);
    expect(fired).toEqual([]);
    await timers.advance(150);
    expect(fired).toEqual([['early', 100]]);
    expect(timers.now() - T0.getTime()).toBe(249);
    await timers.advance(51);
    expect(fired).toEqual([
      ['early', 100],
      ['late', 300],
    ]);
    expect(timers.size).toBe(0);
  });

  it('fireAll fires what is armed once without moving the clock', () => {
    const clock = new ManualClock(T0);
    const timers = new FakeTimers(clock);
    let rounds = 0;
    const tick = (): void => {
      rounds++;
      timers.setTimeout(tick, 1_000);
    };
    timers.setTimeout(tick, 1_000);
    timers.fireAll();
    timers.fireAll();
    expect(rounds).toBe(2);
    expect(timers.delays()).toEqual([1_000]);
    expect(clock.now()).toEqual(T0);
  });

  it('advanceUntil moves time until the work settles, and gives up past its limit', async () => {
    const timers = new FakeTimers(new ManualClock(T0));
    const slept = new Promise<string>((resolve) => timers.setTimeout(() => resolve('done'), 5_500));
    await expect(timers.advanceUntil(slept)).resolves.toBe('done');
    const never = new Promise<void>(() => {});
    await expect(timers.advanceUntil(never, 1_000, 3_000)).rejects.toThrow(/still pending after 3000 ms/);
  });
});

describe('waitFor', () => {
  it('resolves once the check holds and names what it waited for when it times out', async () => {
    let looks = 0;
    await waitFor(() => ++looks >= 3, 'three looks', { intervalMs: 1 });
    expect(looks).toBe(3);
    await expect(waitFor(async () => false, 'nothing', { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      'timed out after 20 ms waiting for nothing',
    );
  });
});

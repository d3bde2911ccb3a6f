import type { ManualClock, Timers } from '@floworch/core';

interface Pending {
  readonly due: number;
  readonly seq: number;
  readonly callback: () => void;
}

/** Lets queued promise callbacks (handlers, store calls) run to quiescence between timers. */
async function drain(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Timers driven by a {@link ManualClock}: nothing fires until {@link FakeTimers.advance} moves the
 * clock past a timer's due time. Timers fire in due order, each at its own instant, with the
 * event loop drained in between so the work they start can finish.
 */
export class FakeTimers implements Timers {
  private readonly pending = new Set<Pending>();
  private seq = 0;

  /** @param clock the clock the store and engine read */
  constructor(private readonly clock: ManualClock) {}

  /** Registers `callback` to fire `ms` after the clock's current instant. */
  setTimeout(callback: () => void, ms: number): unknown {
    const timer: Pending = { due: this.clock.now().getTime() + Math.max(0, ms), seq: this.seq++, callback };
    this.pending.add(timer);
    return timer;
  }

  /** Cancels a timer. */
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as Pending);
  }

  /** Number of timers not yet fired. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now().getTime() + Math.max(0, ms);
    await drain();
    for (;;) {
      let next: Pending | undefined;
      for (const t of this.pending) {
        if (t.due <= target && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq)))
          next = t;
      }
      if (!next) break;
      this.pending.delete(next);
      if (next.due > this.clock.now().getTime()) this.clock.set(next.due);
      next.callback();
      await drain();
    }
    this.clock.set(target);
    await drain();
  }
}

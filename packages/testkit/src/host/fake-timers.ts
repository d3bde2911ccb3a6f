import { ManualClock, type Timers } from '@floworch/core';

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
 * event loop drained in between so the work they start can finish. Pass the clock your storage
 * reads so stored times and timers move together.
 *
 * @example
 * const clock = new ManualClock(T0);
 * const timers = new FakeTimers(clock);
 * const orchestrator = createFlowOrchestrator({ storage: createInMemoryStorage({ clock }), flows, timers });
 * await timers.advance(30_000); // the step's 30 s timeout fires
 */
export class FakeTimers implements Timers {
  private readonly pending = new Set<Pending>();
  private seq = 0;

  /** @param clock the clock the store and engine read (default: a clock of its own, at the current time) */
  constructor(private readonly clock: ManualClock = new ManualClock()) {}

  /** The clock's instant in ms: time measured with these timers only moves when they do. */
  now(): number {
    return this.clock.now().getTime();
  }

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

  /** How long until each armed timer falls due (ms from the clock's instant), in arming order. */
  delays(): number[] {
    const now = this.clock.now().getTime();
    return [...this.pending].map((t) => t.due - now);
  }

  /**
   * Fires every armed timer once, at once and without moving the clock (timers armed meanwhile
   * wait for the next call): for driving a periodic loop one round at a time.
   */
  fireAll(): void {
    const armed = [...this.pending].sort((a, b) => a.due - b.due || a.seq - b.seq);
    for (const timer of armed) {
      this.pending.delete(timer);
      timer.callback();
    }
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

  /**
   * Advances time in steps of `stepMs` until `work` settles, and returns its outcome: for
   * waiting on something that itself waits on these timers (a graceful `stop()` with a grace
   * period, a retry back-off). Rejects once `limitMs` of fake time passed without it settling.
   *
   * @example
   * await timers.advanceUntil(orchestrator.stop());
   */
  async advanceUntil<T>(work: Promise<T>, stepMs = 1_000, limitMs = 3_600_000): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    watched.catch(() => {}); // observed here; the caller sees the rejection through the return
    for (let passed = 0; !settled; passed += stepMs) {
      if (passed >= limitMs) throw new Error(`still pending after ${limitMs} ms of fake time`);
      await this.advance(stepMs);
    }
    return watched;
  }
}

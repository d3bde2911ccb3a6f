/** Timer functions and a monotonic clock, injectable so tests can drive time. */
export interface Timers {
  /** Like `setTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(handle: unknown): void;
  /**
   * Milliseconds on a monotonic clock, for measuring how long something took (only differences
   * mean anything). Optional: without it durations are measured with `performance.now()`.
   */
  now?(): number;
}

/** The real timers; handles are unref'd so pending timers never keep a process alive. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

/** The monotonic instant of `timers` in ms (the process's own when they have no clock). */
export function monotonicNow(timers: Timers): number {
  return timers.now ? timers.now() : performance.now();
}

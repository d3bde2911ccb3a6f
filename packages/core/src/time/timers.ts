/** Timer functions and a monotonic clock, injectable so tests can drive time. */
export interface Timers {
  /**
   * Like `setTimeout`. Timers do not keep the process alive unless `keepAlive` is set: for a
   * wait somebody awaits (a retry back-off, waiting for a run's result), not for background
   * polling. Fakes may ignore the flag.
   */
  setTimeout(callback: () => void, ms: number, keepAlive?: boolean): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(handle: unknown): void;
  /**
   * Milliseconds on a monotonic clock, for measuring how long something took (only differences
   * mean anything). Optional: without it durations are measured with `performance.now()`.
   */
  now?(): number;
}

/** The real timers; handles are unref'd (unless asked to keep the process alive) so idle polling never does. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms, keepAlive = false) => {
    const handle = setTimeout(callback, ms);
    if (!keepAlive) handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => performance.now(),
};

/** The monotonic instant of `timers` in ms (the process's own when they have no clock). */
export function monotonicNow(timers: Timers): number {
  return timers.now ? timers.now() : performance.now();
}

/** Resolves after `ms` on `timers`, keeping the process alive meanwhile (somebody awaits it). */
export function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    timers.setTimeout(resolve, ms, true);
  });
}

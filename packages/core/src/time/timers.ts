/** Timer functions, injectable so tests can drive time. */
export interface Timers {
  /** Like `setTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Like `clearTimeout`. */
  clearTimeout(handle: unknown): void;
}

/** The real timers; handles are unref'd so pending timers never keep a process alive. */
export const systemTimers: Timers = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

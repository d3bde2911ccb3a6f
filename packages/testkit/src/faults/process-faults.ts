import { afterEach, beforeEach, expect } from 'vitest';

/**
 * Registers vitest hooks that fail each test of the enclosing `describe` (or file) on any
 * unhandled rejection or uncaught exception raised while it ran: a dropped connection or a
 * killed server must surface as a rejected call or a log line, never as a process-level fault.
 * @returns the faults seen by the running test, for tests that want to inspect them
 */
export function failOnProcessFaults(): { readonly faults: unknown[] } {
  const faults: unknown[] = [];
  const onFault = (error: unknown) => {
    faults.push(error);
  };
  beforeEach(() => {
    faults.length = 0;
    process.on('unhandledRejection', onFault);
    process.on('uncaughtException', onFault);
  });
  afterEach(() => {
    process.off('unhandledRejection', onFault);
    process.off('uncaughtException', onFault);
    expect(faults, 'unhandled rejections / uncaught exceptions').toEqual([]);
  });
  return { faults };
}

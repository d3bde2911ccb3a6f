/** How long and how often {@link waitFor} looks. */
export interface WaitForOptions {
  /** Give up after this many ms of real time (default 10 000). */
  readonly timeoutMs?: number;
  /** Pause between looks in ms (default 10). */
  readonly intervalMs?: number;
}

/**
 * Looks at `check` until it holds, pausing on the real clock between looks; rejects naming
 * `what` when `timeoutMs` passes first. For work that progresses on its own (another process, a
 * database, a job queue); time-driven behaviour is better tested on `FakeTimers`.
 *
 * @param options the options, or just the timeout in ms
 * @example
 * await waitFor(async () => (await storage.runs.getRunDetail(runId))?.status === 'Succeeded', 'the run to succeed');
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  options: WaitForOptions | number = {},
): Promise<void> {
  const { timeoutMs = 10_000, intervalMs = 10 } =
    typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

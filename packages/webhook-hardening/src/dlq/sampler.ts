import type { ResolvedDlqLimits } from './limits.js';

interface Window {
  startedAt: number;
  seen: number;
}

/**
 * Decides which refusals get a DLQ row: per (flow, reason), the first `maxRowsPerWindow` of each
 * window, then every `sampleEvery`-th. Any client can cause refusals, so without this a flood
 * would grow the table without limit; with it, rows per flow and reason are bounded per window.
 */
export class DlqSampler {
  readonly #windows = new Map<string, Window>();

  /** @param limits the caps */
  constructor(private readonly limits: ResolvedDlqLimits) {}

  /** Whether the refusal numbered next for `flowId` and `reason` should be written at `nowMs`. */
  admit(flowId: string, reason: string, nowMs: number): boolean {
    const key = `${flowId}|${reason}`;
    let window = this.#windows.get(key);
    if (!window || nowMs - window.startedAt >= this.limits.windowMs) {
      if (!window && this.#windows.size >= this.limits.maxTrackedKeys) {
        const oldest = this.#windows.keys().next();
        if (!oldest.done) this.#windows.delete(oldest.value);
      }
      window = { startedAt: nowMs, seen: 0 };
      this.#windows.delete(key);
      this.#windows.set(key, window);
    }
    window.seen += 1;
    if (window.seen <= this.limits.maxRowsPerWindow) return true;
    const { sampleEvery } = this.limits;
    return sampleEvery > 0 && (window.seen - this.limits.maxRowsPerWindow) % sampleEvery === 0;
  }
}

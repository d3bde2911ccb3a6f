import type { FlowClient, StoredEventView } from '@floworch/core';

/** Options of {@link EventLogCursor}. */
export interface EventLogCursorOptions {
  /** Start after this sequence. */
  readonly after: number;
  /**
   * How long a hole in the sequence is waited for before it is taken as a rolled-back insert
   * (default 5 000 ms). Sequences are drawn at insert and transactions commit in any order, so
   * a smaller sequence can become visible after a larger one.
   */
  readonly gapGraceMs?: number;
  /** Rows per read (default 500). */
  readonly take?: number;
  /** Clock (ms), for tests. */
  readonly now?: () => number;
}

/** Holes kept open at most: past this many delivered events above one, it is given up. */
const MAX_WINDOW = 2_000;

/**
 * Follows the global event log without losing events that commit out of sequence order.
 *
 * `watermark` is the highest sequence below which every event has been delivered (or its hole
 * given up). Events above it are delivered as they appear and remembered, and the window above
 * the watermark is re-read until its holes fill or outlast `gapGraceMs`. Resuming from the
 * watermark therefore never skips an event, and may repeat a few (dedupe by `sequence`).
 */
export class EventLogCursor {
  private mark: number;
  private readonly delivered = new Set<number>();
  private highest: number;
  private holeSince: number | null = null;
  private holeAt = -1;
  private readonly graceMs: number;
  private readonly take: number;
  private readonly now: () => number;

  /** @param client where the log is read @param options start and tuning */
  constructor(
    private readonly client: Pick<FlowClient, 'readEventLog'>,
    options: EventLogCursorOptions,
  ) {
    this.mark = Math.max(0, Math.trunc(options.after));
    this.highest = this.mark;
    this.graceMs = options.gapGraceMs ?? 5_000;
    this.take = options.take ?? 500;
    this.now = options.now ?? Date.now;
  }

  /** Every event at or below it has been delivered (or its hole given up): the resume point. */
  get watermark(): number {
    return this.mark;
  }

  /** Reads what appeared since the last call, in sequence order within each read. */
  async read(): Promise<StoredEventView[]> {
    const fresh: StoredEventView[] = [];
    // The window above the watermark: late commits fill holes here.
    let after = this.mark;
    window: while (after < this.highest) {
      const page = await this.client.readEventLog({ after, take: this.take });
      for (const e of page) {
        if (e.sequence > this.highest) break window;
        if (!this.delivered.has(e.sequence)) fresh.push(e);
      }
      if (page.length < this.take) break;
      after = page[page.length - 1]!.sequence;
    }
    // New events past everything delivered so far.
    for (;;) {
      const page = await this.client.readEventLog({ after: this.highest, take: this.take });
      for (const e of page) fresh.push(e);
      if (page.length > 0) this.highest = page[page.length - 1]!.sequence;
      if (page.length < this.take) break;
    }
    for (const e of fresh) this.delivered.add(e.sequence);
    this.advance(fresh);
    return fresh.sort((a, b) => a.sequence - b.sequence);
  }

  /** Moves the watermark over delivered sequences and over holes that outlasted the grace. */
  private advance(fresh: readonly StoredEventView[]): void {
    const now = this.now();
    const oldEnough = (e: StoredEventView | undefined) =>
      e !== undefined && now - e.timestamp.getTime() > 2 * this.graceMs;
    for (;;) {
      while (this.delivered.delete(this.mark + 1)) this.mark++;
      if (this.delivered.size === 0) {
        // Nothing delivered above: whatever lies between is a hole nobody will fill.
        this.mark = Math.max(this.mark, this.highest);
        this.holeSince = null;
        return;
      }
      const above = Math.min(...this.delivered);
      // A hole below an event written long ago (a backlog read on resume) will not fill.
      const neighbour = fresh.find((e) => e.sequence === above);
      if (this.holeAt !== this.mark || this.holeSince === null) {
        this.holeAt = this.mark;
        this.holeSince = now;
      }
      if (now - this.holeSince >= this.graceMs || oldEnough(neighbour) || this.delivered.size > MAX_WINDOW) {
        this.mark = above - 1;
        this.holeSince = null;
        continue;
      }
      return;
    }
  }
}

import type { RunTimeseriesBucket } from '../records.js';
import type { TimeseriesQuery } from '../run-store.js';

/** The columns of a run that the timeseries needs. */
export interface TimeseriesRow {
  /** Run start. */
  readonly startedAt: Date;
  /** Run end, if any. */
  readonly completedAt: Date | null;
  /** Run status. */
  readonly status: string;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Maximum number of buckets one query returns. */
export const MAX_TIMESERIES_BUCKETS = 10_000;

/** Linear-interpolated percentile (NIST type 7) of ascending-sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  if (sorted.length === 1) return sorted[0]!;
  const rank = (sorted.length - 1) * p;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

/** Bucket geometry of a query: the floored anchor, the bucket size and the count. */
export function timeseriesWindow(query: TimeseriesQuery): { anchor: Date; sizeMs: number; count: number } {
  const sizeMs = query.granularity === 'Day' ? DAY_MS : HOUR_MS;
  const anchorMs = Math.floor(query.since.getTime() / sizeMs) * sizeMs;
  const raw = Math.ceil((query.until.getTime() - anchorMs) / sizeMs);
  const count = raw <= 0 ? 0 : Math.min(MAX_TIMESERIES_BUCKETS, raw);
  return { anchor: new Date(anchorMs), sizeMs, count };
}

/**
 * Builds zero-filled buckets from runs. Backends select rows with `since <= startedAt < until`
 * (and the flow filter) and hand them here, so every backend computes identical numbers.
 */
export function buildTimeseries(
  query: TimeseriesQuery,
  rows: Iterable<TimeseriesRow>,
): RunTimeseriesBucket[] {
  const { anchor, sizeMs, count } = timeseriesWindow(query);
  if (count === 0) return [];
  type Acc = {
    total: number;
    succeeded: number;
    failed: number;
    cancelled: number;
    timedOut: number;
    skipped: number;
    running: number;
    durations: number[];
  };
  const acc: Acc[] = Array.from({ length: count }, () => ({
    total: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    timedOut: 0,
    skipped: 0,
    running: 0,
    durations: [],
  }));
  const since = query.since.getTime();
  const until = query.until.getTime();
  for (const row of rows) {
    const t = row.startedAt.getTime();
    if (t < since || t >= until) continue;
    const index = Math.floor((t - anchor.getTime()) / sizeMs);
    const bucket = acc[index];
    if (!bucket) continue;
    bucket.total++;
    switch (row.status) {
      case 'Succeeded':
        bucket.succeeded++;
        break;
      case 'Failed':
        bucket.failed++;
        break;
      case 'Cancelled':
        bucket.cancelled++;
        break;
      case 'TimedOut':
        bucket.timedOut++;
        break;
      case 'Skipped':
        bucket.skipped++;
        break;
      default:
        bucket.running++;
    }
    if (row.completedAt && row.status !== 'Running') {
      bucket.durations.push(row.completedAt.getTime() - t);
    }
  }
  return acc.map((b, i) => {
    const sorted = b.durations.sort((x, y) => x - y);
    return {
      timestamp: new Date(anchor.getTime() + i * sizeMs),
      total: b.total,
      succeeded: b.succeeded,
      failed: b.failed,
      cancelled: b.cancelled,
      timedOut: b.timedOut,
      skipped: b.skipped,
      running: b.running,
      p50DurationMs: percentile(sorted, 0.5),
      p95DurationMs: percentile(sorted, 0.95),
    };
  });
}

/** Start of the UTC day containing `instant`. */
export function startOfUtcDay(instant: Date): Date {
  return new Date(Math.floor(instant.getTime() / DAY_MS) * DAY_MS);
}

import type { Queue } from 'bullmq';
import type { StepJobData } from './job-id.js';

/** Queue depth and pickup delay of the step queue. */
export interface BullMQMetrics {
  /** Jobs by state in Redis (the whole deployment's queue, every process). */
  readonly jobs: {
    /** Due, waiting for a worker. */
    readonly waiting: number;
    /** Waiting for their time (backoff, polling, `Pending(delayMs)`, successor delays). */
    readonly delayed: number;
    /** Being processed (a step executing). */
    readonly active: number;
    /** Failed jobs still kept (normally 0: failed jobs are dropped and re-dispatched). */
    readonly failed: number;
  };
  /**
   * Time from a row being due to a worker of this process taking it (ms): the delivery's
   * hand-off delay, over the last 1 000 steps this process took.
   */
  readonly pickupDelayMs: {
    readonly count: number;
    readonly p50: number | null;
    readonly p95: number | null;
    readonly max: number | null;
  };
}

/** A bounded sample of pickup delays. */
export class DelayStats {
  private readonly values: number[] = [];
  private next = 0;
  private total = 0;
  /** Also called with every value (the OpenTelemetry histogram, when installed). */
  onAdd: ((ms: number) => void) | undefined;

  /** @param size how many of the latest values are kept */
  constructor(private readonly size = 1_000) {}

  /** Records one delay (ms). */
  add(ms: number): void {
    this.total++;
    this.onAdd?.(ms);
    if (this.values.length < this.size) this.values.push(ms);
    else {
      this.values[this.next] = ms;
      this.next = (this.next + 1) % this.size;
    }
  }

  /** Count (all time) and quantiles of the kept sample. */
  summary(): BullMQMetrics['pickupDelayMs'] {
    if (this.values.length === 0) return { count: this.total, p50: null, p95: null, max: null };
    const sorted = [...this.values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { count: this.total, p50: at(0.5), p95: at(0.95), max: sorted[sorted.length - 1]! };
  }
}

/** Reads the queue depth. */
export async function jobCounts(queue: Queue<StepJobData>): Promise<BullMQMetrics['jobs']> {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed');
  return {
    waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
    delayed: counts.delayed ?? 0,
    active: counts.active ?? 0,
    failed: counts.failed ?? 0,
  };
}

/**
 * Registers OpenTelemetry instruments when `@opentelemetry/api` is installed: the observable
 * gauge `flow_bullmq_jobs` (attribute `state`: waiting, delayed, active, failed) read from Redis
 * at each collection, and the histogram `flow_bullmq_pickup_delay_ms`. Returns the recorder for
 * the histogram (a no-op without OpenTelemetry).
 */
export async function registerInstruments(
  queue: Queue<StepJobData>,
  queueName: string,
): Promise<(ms: number) => void> {
  let api: typeof import('@opentelemetry/api');
  try {
    api = await import('@opentelemetry/api');
  } catch {
    return () => {};
  }
  const meter = api.metrics.getMeter('FlowOrchestrator', '1.0.0');
  const gauge = meter.createObservableGauge('flow_bullmq_jobs', {
    description: 'Step jobs in the BullMQ queue by state',
  });
  gauge.addCallback(async (result) => {
    try {
      const counts = await jobCounts(queue);
      for (const [state, value] of Object.entries(counts)) result.observe(value, { state, queue: queueName });
    } catch {
      // Redis unreachable: no observation this time.
    }
  });
  const histogram = meter.createHistogram('flow_bullmq_pickup_delay_ms', {
    unit: 'ms',
    description: 'Time from a step being due to a BullMQ worker taking it',
  });
  return (ms) => histogram.record(ms, { queue: queueName });
}

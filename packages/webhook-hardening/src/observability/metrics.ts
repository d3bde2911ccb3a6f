/** Metric instrument names (kept from the reference so dashboards carry over). */
export const WebhookMetricName = {
  /** Counter; tags `flow`, `result` (`off` | `accepted` | `rejected`), `scheme`. */
  received: 'webhook_received_total',
  /** Counter; tags `flow`, `reason`. */
  rejected: 'webhook_rejected_total',
  /** Histogram of body sizes; tag `flow`. */
  bodyBytes: 'webhook_body_bytes',
  /** Histogram of pipeline time; tags `flow`, `result`. */
  processingMs: 'webhook_processing_ms',
  /** Counter of DLQ rows not written because of the per-flow, per-reason cap; tags `flow`, `reason`. */
  dlqDropped: 'webhook_dlq_dropped_total',
} as const;

/** Tags attached to a measurement. */
export type MetricTags = Readonly<Record<string, string>>;

/** Sink for webhook metrics; adapt it to OpenTelemetry, prom-client… */
export interface WebhookMetrics {
  /** Adds one to a counter. */
  increment(name: string, tags: MetricTags): void;
  /** Records a histogram sample. */
  observe(name: string, value: number, tags: MetricTags): void;
}

/** Metrics that go nowhere (the default). */
export const noopWebhookMetrics: WebhookMetrics = Object.freeze({ increment: () => {}, observe: () => {} });

/** One recorded measurement of {@link InMemoryWebhookMetrics}. */
export interface RecordedMetric {
  /** `counter` or `histogram`. */
  readonly kind: 'counter' | 'histogram';
  /** Instrument name. */
  readonly name: string;
  /** 1 for counters, the sample for histograms. */
  readonly value: number;
  /** Tags. */
  readonly tags: MetricTags;
}

/** Keeps every measurement in a list: for tests and local debugging. */
export class InMemoryWebhookMetrics implements WebhookMetrics {
  /** Measurements in the order they were taken. */
  readonly records: RecordedMetric[] = [];

  /** @inheritdoc */
  increment(name: string, tags: MetricTags): void {
    this.records.push({ kind: 'counter', name, value: 1, tags: { ...tags } });
  }

  /** @inheritdoc */
  observe(name: string, value: number, tags: MetricTags): void {
    this.records.push({ kind: 'histogram', name, value, tags: { ...tags } });
  }

  /** Sum of a counter over the measurements whose tags include `where`. */
  count(name: string, where: MetricTags = {}): number {
    return this.records
      .filter((r) => r.kind === 'counter' && r.name === name)
      .filter((r) => Object.entries(where).every(([k, v]) => r.tags[k] === v))
      .reduce((sum, r) => sum + r.value, 0);
  }
}

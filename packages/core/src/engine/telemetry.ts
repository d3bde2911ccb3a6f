/**
 * OpenTelemetry instrumentation, loaded only when `@opentelemetry/api` is installed (an optional
 * peer dependency). Without it — or without an SDK registered — every call is a cheap no-op.
 */

/** Attribute values as OpenTelemetry accepts them. */
export type Attributes = Record<string, string | number | boolean>;

/** The handle a span body gets. */
export interface SpanHandle {
  /** Adds attributes. */
  set(attributes: Attributes): void;
  /** Marks the span failed (optionally recording the exception). */
  fail(message: string, error?: unknown): void;
}

/** What the engine reports through. */
export interface Telemetry {
  /** Runs `body` inside a span named `name`. */
  span<T>(name: string, attributes: Attributes, body: (span: SpanHandle) => Promise<T>): Promise<T>;
  /** Adds to a counter. */
  count(name: string, attributes: Attributes, value?: number): void;
  /** Records a histogram value. */
  record(name: string, value: number, attributes: Attributes): void;
}

const noopSpan: SpanHandle = { set: () => {}, fail: () => {} };

/** Telemetry that does nothing. */
export const noopTelemetry: Telemetry = {
  span: (_name, _attributes, body) => body(noopSpan),
  count: () => {},
  record: () => {},
};

/** Counters and histograms of the `FlowOrchestrator` meter (the reference's metric names). */
const COUNTERS = [
  'flow_runs_started',
  'flow_runs_completed',
  'flow_steps_completed',
  'flow_step_retries',
  'flow_step_skipped',
  'flow_step_poll_attempts',
] as const;
const HISTOGRAMS = ['flow_step_duration_ms', 'flow_step_queue_delay_ms'] as const;

/** Loads the OpenTelemetry API if it is installed; otherwise returns {@link noopTelemetry}. */
export async function loadTelemetry(): Promise<Telemetry> {
  let api: typeof import('@opentelemetry/api');
  try {
    api = await import('@opentelemetry/api');
  } catch {
    return noopTelemetry;
  }
  const tracer = api.trace.getTracer('FlowOrchestrator', '1.0.0');
  const meter = api.metrics.getMeter('FlowOrchestrator', '1.0.0');
  const counters = new Map(COUNTERS.map((name) => [name as string, meter.createCounter(name)]));
  const histograms = new Map(
    HISTOGRAMS.map((name) => [name as string, meter.createHistogram(name, { unit: 'ms' })]),
  );
  return {
    span: (name, attributes, body) =>
      tracer.startActiveSpan(name, { attributes, kind: api.SpanKind.INTERNAL }, async (span) => {
        let failed = false;
        const handle: SpanHandle = {
          set: (more) => span.setAttributes(more),
          fail: (message, error) => {
            failed = true;
            if (error instanceof Error) span.recordException(error);
            span.setStatus({ code: api.SpanStatusCode.ERROR, message });
          },
        };
        try {
          return await body(handle);
        } catch (error) {
          if (!failed) handle.fail((error as Error)?.message ?? String(error), error);
          throw error;
        } finally {
          span.end();
        }
      }),
    count: (name, attributes, value = 1) => counters.get(name)?.add(value, attributes),
    record: (name, value, attributes) => histograms.get(name)?.record(value, attributes),
  };
}

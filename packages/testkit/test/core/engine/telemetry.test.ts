import { type FlowDefinition, StepResults } from '@floworch/core';
import { metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { flowId, startEngine, waitForRun } from './support.js';

describe('engine telemetry (OpenTelemetry present)', () => {
  const spans = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 60_000,
  });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  afterAll(() => {
    trace.disable();
    metrics.disable();
  });

  it('emits flow.trigger and flow.step spans and the run/step metrics', async () => {
    const flow: FlowDefinition = {
      id: flowId(),
      name: 'Traced',
      steps: { ok: { type: 'Ok' }, bad: { type: 'Bad', runAfter: { ok: ['Succeeded'] } } },
    };
    const { orchestrator, storage } = await startEngine({
      flows: [flow],
      handlers: { Ok: () => 1, Bad: () => StepResults.failed('nope') },
    });
    const { runId } = await orchestrator.trigger(flow.id);
    await waitForRun(storage, runId!);
    await orchestrator.stop();

    const finished = spans.getFinishedSpans();
    const trigger = finished.find((s) => s.name === 'flow.trigger')!;
    expect(trigger.attributes).toMatchObject({ 'flow.id': flow.id, 'run.id': runId, duplicate: false });
    const steps = finished.filter((s) => s.name === 'flow.step');
    expect(steps.map((s) => s.attributes['step.key']).sort()).toEqual(['bad', 'ok']);
    const bad = steps.find((s) => s.attributes['step.key'] === 'bad')!;
    expect(bad.status.code).toBe(2); // ERROR
    expect(bad.attributes['step.type']).toBe('Bad');

    await reader.forceFlush();
    const names = metricExporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.descriptor.name)));
    for (const name of [
      'flow_runs_started',
      'flow_runs_completed',
      'flow_steps_completed',
      'flow_step_duration_ms',
    ]) {
      expect(names).toContain(name);
    }
  });
});

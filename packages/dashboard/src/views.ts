import type {
  FlowManifest,
  FlowView,
  ManifestStep,
  RunView,
  StepView,
  WebhookDeliveryPage,
  WebhookDeliveryView,
} from '@floworch/core';
import { redactHeaders, redactSettings } from './http/redact.js';

/** A trigger as the API shows it (no secrets: only what identifies and schedules it). */
export interface TriggerSummary {
  /** Trigger key. */
  readonly key: string;
  /** `Manual`, `Webhook`, `Cron`. */
  readonly type: string;
  /** Cron expression of a cron trigger (as declared). */
  readonly cron?: string;
  /** Time zone of a cron trigger. */
  readonly timezone?: string;
  /** URL segment of a webhook trigger. */
  readonly webhookSlug?: string;
}

/** A flow in `GET /api/flows`. */
export interface FlowSummary {
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly isEnabled: boolean;
  readonly createdAt: Date | null;
  readonly updatedAt: Date | null;
  readonly triggers: readonly TriggerSummary[];
  readonly stepCount: number;
}

/** A flow in `GET /api/flows/{id}`: the summary plus its manifest with secret inputs redacted. */
export interface FlowDetail extends FlowSummary {
  readonly manifest: FlowManifest;
}

function stringInput(inputs: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const found = Object.entries(inputs).find(([k]) => k.toLowerCase() === name.toLowerCase());
  return typeof found?.[1] === 'string' ? found[1] : undefined;
}

function triggerSummary(key: string, trigger: { type: string; inputs: Record<string, unknown> }) {
  const type = trigger.type;
  const summary: { -readonly [K in keyof TriggerSummary]: TriggerSummary[K] } = { key, type };
  const lower = type.toLowerCase();
  if (lower === 'cron') {
    const cron = stringInput(trigger.inputs, 'cronExpression');
    const timezone = stringInput(trigger.inputs, 'timezone');
    if (cron !== undefined) summary.cron = cron;
    if (timezone !== undefined) summary.timezone = timezone;
  } else if (lower === 'webhook') {
    const slug = stringInput(trigger.inputs, 'webhookSlug');
    if (slug !== undefined) summary.webhookSlug = slug;
  }
  return summary;
}

function redactStep(step: ManifestStep): ManifestStep {
  return {
    ...step,
    inputs: redactSettings(step.inputs) as ManifestStep['inputs'],
    ...(step.steps && {
      steps: Object.fromEntries(Object.entries(step.steps).map(([k, s]) => [k, redactStep(s)])),
    }),
  };
}

/** The manifest with every secret-named trigger or step input redacted. */
export function redactManifest(manifest: FlowManifest): FlowManifest {
  return {
    triggers: Object.fromEntries(
      Object.entries(manifest.triggers).map(([key, t]) => [
        key,
        { type: t.type, inputs: redactSettings(t.inputs) as (typeof t)['inputs'] },
      ]),
    ),
    steps: Object.fromEntries(Object.entries(manifest.steps).map(([k, s]) => [k, redactStep(s)])),
  };
}

/** `GET /api/flows` item. */
export function flowSummary(flow: FlowView): FlowSummary {
  return {
    id: flow.id,
    name: flow.name,
    version: flow.version,
    isEnabled: flow.isEnabled,
    createdAt: flow.createdAt,
    updatedAt: flow.updatedAt,
    triggers: Object.entries(flow.manifest.triggers).map(([key, t]) => triggerSummary(key, t)),
    stepCount: Object.keys(flow.manifest.steps).length,
  };
}

/** `GET /api/flows/{id}`. */
export function flowDetail(flow: FlowView): FlowDetail {
  return { ...flowSummary(flow), manifest: redactManifest(flow.manifest) };
}

/** Resolved step inputs: secret-named top-level values redacted, as in the manifest. */
function redactInput(input: unknown): unknown {
  return input && typeof input === 'object' && !Array.isArray(input)
    ? redactSettings(input as Record<string, unknown>)
    : input;
}

/** Steps with secret-named inputs redacted (outputs and trigger data are business data, kept). */
export function redactSteps(steps: readonly StepView[]): StepView[] {
  return steps.map((step) => ({
    ...step,
    input: redactInput(step.input),
    attempts: step.attempts.map((a) => ({ ...a, input: redactInput(a.input) })),
  }));
}

/** A run with credential headers and secret-named step inputs redacted. */
export function runDetail(run: RunView): RunView {
  return { ...run, triggerHeaders: redactHeaders(run.triggerHeaders), steps: redactSteps(run.steps) };
}

function delivery(item: WebhookDeliveryView): WebhookDeliveryView {
  return { ...item, headers: redactHeaders(item.headers) };
}

/** A webhook page with header values redacted again (defence in depth). */
export function deliveryPage(page: WebhookDeliveryPage): WebhookDeliveryPage {
  return { ...page, items: page.items.map(delivery) };
}

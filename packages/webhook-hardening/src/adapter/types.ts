import type { WebhookTriggerSecurity } from '../config/trigger-security.js';
import type { JsonValue } from '../http/payload.js';

/** What the engine receives for an accepted delivery. */
export interface WebhookTriggerInput {
  /** Flow to run. */
  readonly flowId: string;
  /** Webhook trigger key of that flow. */
  readonly triggerKey: string;
  /** Trigger data: parsed JSON, form fields, or `null`. */
  readonly body: JsonValue;
  /** Request headers minus the sensitive set (lower-cased names), kept with the run. */
  readonly headers: Readonly<Record<string, string>>;
  /** Trimmed `Idempotency-Key` header value, or `null`; the engine dedups per flow and trigger. */
  readonly idempotencyKey: string | null;
}

/** What the engine answers. */
export interface WebhookTriggerResult {
  /** The new run's id, or the existing run's id for a duplicate idempotency key; `null` if refused. */
  readonly runId: string | null;
  /** True when the flow is disabled (no run was started). */
  readonly disabled?: boolean;
}

/**
 * The engine side of the adapter: starts a run for an accepted delivery. The engine implements it;
 * tests use a fake.
 */
export interface WebhookTriggerTarget {
  /** Starts (or, for a duplicate idempotency key, finds) a run. */
  trigger(input: WebhookTriggerInput): Promise<WebhookTriggerResult>;
}

/** A flow and webhook trigger matched by URL. */
export interface ResolvedWebhookFlow {
  /** Flow id (lower-case UUID). */
  readonly flowId: string;
  /** Display name, used in the success message. */
  readonly flowName?: string;
  /** Webhook trigger key. */
  readonly triggerKey: string;
  /** The trigger's security settings. */
  readonly security: WebhookTriggerSecurity;
  /** `false` when the flow is disabled (answered 403 before the body is read). */
  readonly enabled?: boolean;
}

/** Finds the flow and trigger for the `{idOrSlug}` URL segment; `null` when none matches. */
export type WebhookFlowResolver = (
  idOrSlug: string,
) => ResolvedWebhookFlow | null | Promise<ResolvedWebhookFlow | null>;

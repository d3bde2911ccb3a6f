import type { Clock } from '@floworch/core';
import type { CompiledTriggerSecurity } from '../config/compile-trigger.js';
import type { WebhookLogEventDescriptor, WebhookLogger } from '../observability/log-events.js';
import type { WebhookReasonCode } from '../reasons.js';

/** What the signature gate authenticated, for the replay gate. */
export interface SharedGateFacts {
  /** Signed timestamp in Unix ms (Stripe's `t=`, Slack's header, Mailgun's and Linear's body). */
  signedTimestampMs: number | null;
  /** The freshness window the signature gate applied, in seconds. */
  freshnessSeconds: number | null;
  /** Replay nonce built from authenticated data; `null` when nothing was verified. */
  nonce: string | null;
}

/** What every gate sees about one delivery. */
export interface GateContext {
  /** Flow the delivery targets. */
  readonly flowId: string;
  /** Trigger key within the flow. */
  readonly triggerKey: string;
  /** The trigger's compiled security settings (global defaults already merged in). */
  readonly security: CompiledTriggerSecurity;
  /** Raw body bytes. */
  readonly body: Uint8Array;
  /** All request headers, lower-cased names, unfiltered. */
  readonly rawHeaders: Readonly<Record<string, string>>;
  /** The URL the publisher called, as the host reports it. */
  readonly absoluteUrl: string | null;
  /** Form fields of a form-encoded body. */
  readonly formFields: ReadonlyArray<readonly [string, string]> | null;
  /** Resolved client address (canonical text) or `null`. */
  readonly clientIp: string | null;
  /** Time source. */
  readonly clock: Clock;
  /** Log sink (gates log only what the pipeline cannot, such as key rotation). */
  readonly logger: WebhookLogger;
  /** Facts gates pass on to later gates. */
  readonly shared: SharedGateFacts;
}

/** A gate's refusal. */
export interface GateRejection {
  /** HTTP status to answer in Enforce mode. */
  readonly status: number;
  /** Reason code. */
  readonly reason: WebhookReasonCode;
  /** Extra response headers (`Retry-After`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Log event to emit. */
  readonly event: WebhookLogEventDescriptor;
  /** Extra log fields. */
  readonly fields?: Readonly<Record<string, unknown>>;
  /** Underlying error, when the gate failed on one. */
  readonly error?: unknown;
}

/** `null` when the delivery passes, a rejection otherwise. */
export type GateVerdict = GateRejection | null;

/** One check of the pipeline. */
export interface Gate {
  /** Name for diagnostics. */
  readonly name: string;
  /**
   * `security` gates run only in Audit and Enforce mode and, in Audit mode, only record their
   * refusal; `always` gates (the legacy shared key) run and refuse in every mode.
   */
  readonly kind: 'security' | 'always';
  /** Checks the delivery. */
  check(context: GateContext): Promise<GateVerdict>;
}

/** Severity of a webhook log event. */
export type WebhookLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** A structured log entry; `fields` never contains secrets or HMAC keys. */
export interface WebhookLogEntry {
  /** Stable numeric id in the webhook range 4000–4099 (kept from the reference). */
  readonly eventId: number;
  /** Stable event name, e.g. `WebhookSignatureRejected`. */
  readonly name: string;
  /** Severity. */
  readonly level: WebhookLogLevel;
  /** Human-readable one-liner. */
  readonly message: string;
  /** Structured context (flowId, triggerKey, reason, …). */
  readonly fields: Readonly<Record<string, unknown>>;
  /** The error behind the event, when there is one. */
  readonly error?: unknown;
}

/** Sink for webhook log events; adapt it to pino, winston, console… */
export interface WebhookLogger {
  /** Receives one event. Must not throw. */
  log(entry: WebhookLogEntry): void;
}

/** A logger that drops everything (the default). */
export const silentWebhookLogger: WebhookLogger = Object.freeze({ log: () => {} });

/** The webhook log events, with the ids and names of the reference. */
export const WebhookLogEvent = {
  signatureRejected: { eventId: 4001, name: 'WebhookSignatureRejected', level: 'warn' },
  replayRejected: { eventId: 4002, name: 'WebhookReplayRejected', level: 'warn' },
  rateLimited: { eventId: 4003, name: 'WebhookRateLimited', level: 'warn' },
  payloadTooLarge: { eventId: 4004, name: 'WebhookPayloadTooLarge', level: 'warn' },
  ipDenied: { eventId: 4005, name: 'WebhookIpDenied', level: 'warn' },
  secretInvalid: { eventId: 4006, name: 'WebhookSecretInvalid', level: 'warn' },
  deliveryAccepted: { eventId: 4007, name: 'WebhookDeliveryAccepted', level: 'info' },
  rejectionStoreFailed: { eventId: 4008, name: 'WebhookRejectionStoreFailed', level: 'warn' },
  replayStoreFailed: { eventId: 4009, name: 'WebhookReplayStoreFailed', level: 'warn' },
  secretRotationUsedPrevious: { eventId: 4010, name: 'WebhookSecretRotationUsedPrevious', level: 'info' },
  conflictingKeyFields: { eventId: 4011, name: 'WebhookConflictingKeyFields', level: 'warn' },
  invalidPayload: { eventId: 4012, name: 'WebhookInvalidPayload', level: 'warn' },
  dispatchFailed: { eventId: 4013, name: 'WebhookDispatchFailed', level: 'error' },
  securityNotEnforced: { eventId: 4014, name: 'WebhookSecurityNotEnforced', level: 'warn' },
  presetRisk: { eventId: 4015, name: 'WebhookIpPresetRisk', level: 'warn' },
  bodyTimeout: { eventId: 4016, name: 'WebhookBodyTimeout', level: 'warn' },
} as const satisfies Record<string, { eventId: number; name: string; level: WebhookLogLevel }>;

/** One of the {@link WebhookLogEvent} descriptors. */
export type WebhookLogEventDescriptor = (typeof WebhookLogEvent)[keyof typeof WebhookLogEvent];

/** Emits `event` on `logger`, swallowing logger failures so logging can never fail a delivery. */
export function emitLog(
  logger: WebhookLogger,
  event: WebhookLogEventDescriptor,
  message: string,
  fields: Record<string, unknown>,
  error?: unknown,
): void {
  try {
    logger.log({ ...event, message, fields, ...(error === undefined ? {} : { error }) });
  } catch {
    // A broken log sink must not turn an accepted delivery into a 500.
  }
}

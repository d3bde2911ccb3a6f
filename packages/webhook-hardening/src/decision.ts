import type { JsonValue } from './http/payload.js';
import type { WebhookReasonCode } from './reasons.js';

/** An accepted delivery, ready to start a run. */
export interface WebhookDelivery {
  /** Flow the delivery targets. */
  readonly flowId: string;
  /** Trigger key within the flow. */
  readonly triggerKey: string;
  /** Raw body bytes (what was signed). */
  readonly body: Uint8Array;
  /** Trigger data: parsed JSON, form fields as an object, or `null` for an empty body. */
  readonly data: JsonValue;
  /** Request headers minus the sensitive set, lower-cased names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Resolved client address. */
  readonly clientIp: string | null;
  /** When the delivery arrived (pipeline clock). */
  readonly receivedAt: Date;
}

/** The pipeline let the delivery through. */
export interface WebhookAcceptDecision {
  /** Discriminant. */
  readonly outcome: 'accept';
  /** Always 200. */
  readonly status: 200;
  /** The delivery. */
  readonly delivery: WebhookDelivery;
  /** In Audit mode: the gate failure that was recorded but not enforced. */
  readonly auditFailure: { readonly status: number; readonly reason: WebhookReasonCode } | null;
}

/** The pipeline refused the delivery. */
export interface WebhookRejectDecision {
  /** Discriminant. */
  readonly outcome: 'reject';
  /** HTTP status to answer (400, 401, 403, 409, 413, 429 or 503). */
  readonly status: number;
  /** Reason code (for logs, metrics and the DLQ; never sent to the caller). */
  readonly reason: WebhookReasonCode;
  /** Response headers to send, such as `Retry-After`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What the pipeline decided about one request. */
export type WebhookDecision = WebhookAcceptDecision | WebhookRejectDecision;

/** JSON response with `content-type` set. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}

/** The one body every refusal gets. */
export const GENERIC_REJECTION_BODY = Object.freeze({ error: 'Webhook rejected.' });

/**
 * The HTTP answer to a refusal: the decision's status and headers with a generic body. The reason
 * stays in logs and the DLQ: naming it (`skew_exceeded`, `nonce_seen`) would tell a prober that a
 * signature was valid.
 */
export function rejectionResponse(decision: Pick<WebhookRejectDecision, 'status' | 'headers'>): Response {
  return jsonResponse(decision.status, GENERIC_REJECTION_BODY, decision.headers);
}

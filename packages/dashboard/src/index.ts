/**
 * `@floworch/dashboard`: a REST API, a live event stream (Server-Sent Events across replicas)
 * and a web UI to see and operate @floworch flows, runs, schedules and webhook deliveries.
 * Built on the flow client of `@floworch/core`; mountable in `node:http`, Express and Fastify.
 * @packageDocumentation
 */
export { createDashboard, type Dashboard, type DashboardOptions } from './dashboard.js';
export { EventLogCursor, type EventLogCursorOptions } from './events/cursor.js';
export type { EventStreamOptions } from './events/stream.js';
export { HttpError } from './http/errors.js';
export { isSecretName, REDACTED, redactHeaders } from './http/redact.js';
export type { DashboardWebhookOptions } from './routes/webhook.js';
export {
  type AccessDecision,
  type BasicCredentials,
  constantTimeEquals,
  type DashboardAuthOptions,
  isLoopback,
} from './security/access.js';
export { type ServedDashboard, type ServeOptions, serveDashboard } from './serve.js';
export type { FlowDetail, FlowSummary, TriggerSummary } from './views.js';

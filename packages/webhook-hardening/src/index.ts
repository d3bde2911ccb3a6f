/**
 * `@floworch/webhook-hardening`: verifies, throttles and records inbound partner webhooks.
 *
 * A framework-neutral pipeline over Fetch `Request`s — body cap, IP allow/deny, token-bucket rate
 * limit, legacy shared key, HMAC signatures in 16 partner dialects plus custom ones, replay
 * protection — with a DLQ through `WebhookRejectionStore`, and an adapter that turns accepted
 * deliveries into engine triggers.
 * @packageDocumentation
 */
export {
  createFlowResolver,
  type FlowResolverOptions,
  type WebhookFlowSource,
} from './adapter/flow-resolver.js';
export {
  createNodeWebhookListener,
  type NodeWebhookListenerOptions,
  toFetchRequest,
  writeFetchResponse,
} from './adapter/node-http.js';
export { orchestratorTarget } from './adapter/orchestrator-target.js';
export {
  createWebhookReceiver,
  type WebhookReceiver,
  type WebhookReceiverOptions,
} from './adapter/receiver.js';
export type {
  ResolvedWebhookFlow,
  WebhookFlowResolver,
  WebhookTriggerInput,
  WebhookTriggerResult,
  WebhookTriggerTarget,
} from './adapter/types.js';
export {
  type CompiledSignature,
  type CompiledTriggerSecurity,
  compileTriggerSecurity,
} from './config/compile-trigger.js';
export { type ManifestWebhookSettings, webhookSettingsFromInputs } from './config/manifest-inputs.js';
export {
  type EnforcementMode,
  type RateLimitSettings,
  type ReplayDefaults,
  type ResolvedWebhookOptions,
  resolveWebhookOptions,
  type WebhookSecurityOptions,
} from './config/options.js';
export type {
  TriggerIpSettings,
  TriggerReplaySettings,
  TriggerSignatureSettings,
  WebhookTriggerSecurity,
} from './config/trigger-security.js';
export {
  GENERIC_REJECTION_BODY,
  jsonResponse,
  rejectionResponse,
  type WebhookAcceptDecision,
  type WebhookDecision,
  type WebhookDelivery,
  type WebhookRejectDecision,
} from './decision.js';
export { DEFAULT_DLQ_LIMITS, type DlqLimits, type ResolvedDlqLimits } from './dlq/limits.js';
export {
  bodyExcerpt,
  DeliveryRecorder,
  type DeliveryRecorderOptions,
  type DeliveryRow,
  DLQ_BODY_EXCERPT_BYTES,
} from './dlq/recorder.js';
export { DlqSampler } from './dlq/sampler.js';
export { WebhookConfigError } from './errors.js';
export { rateLimitClientKey } from './gates/rate-limit/client-key.js';
export {
  bucketCapacity,
  type RateLimitDecision,
  type RateLimitPolicy,
  type TokenBucketOptions,
  TokenBucketRateLimiter,
  type WebhookRateLimiter,
} from './gates/rate-limit/token-bucket.js';
export { suppliedSharedKey } from './gates/shared-key/shared-key-gate.js';
export { type BodyReadResult, readBodyWithCap } from './http/body.js';
export { type ForwardedTrust, resolveClientIp } from './http/client-ip.js';
export { captureHeaders, REDACTED, SENSITIVE_HEADERS, SIGNATURE_HEADERS } from './http/headers.js';
export { DEFAULT_MAX_JSON_DEPTH, exceedsJsonDepth, parseJsonBounded } from './http/json.js';
export { type DecodedPayload, decodePayload, formToData, type JsonValue } from './http/payload.js';
export { CidrMatcher, type IpRule, parseIpRule } from './net/cidr.js';
export { formatIp, type IpAddress, normalizeIp, parseClientIp, parseIp } from './net/ip-address.js';
export {
  allPresetNames,
  PUBLISHER_PRESET_NAMES,
  type PublisherPreset,
  publisherPreset,
  publisherPresetInfo,
  REMOVED_PRESETS,
} from './net/presets.js';
export {
  silentWebhookLogger,
  type WebhookLogEntry,
  WebhookLogEvent,
  type WebhookLogger,
  type WebhookLogLevel,
} from './observability/log-events.js';
export {
  InMemoryWebhookMetrics,
  type MetricTags,
  noopWebhookMetrics,
  type RecordedMetric,
  WebhookMetricName,
  type WebhookMetrics,
} from './observability/metrics.js';
export {
  type ConnectionInfo,
  createWebhookPipeline,
  type WebhookPipeline,
  type WebhookTarget,
} from './pipeline.js';
export {
  normalizeReasonCode,
  type SignatureFailureReason,
  WebhookReason,
  type WebhookReasonCode,
} from './reasons.js';
export { type ReplayJanitor, type ReplayJanitorOptions, startReplayJanitor } from './replay/janitor.js';
export { defaultNonce } from './replay/nonce.js';
export { BUILT_IN_SCHEMES, builtInScheme, RESERVED_SCHEME_NAMES } from './signatures/dialects/index.js';
export { decodeDigest, encodeDigest } from './signatures/encoding.js';
export { checkFreshness, DEFAULT_FRESHNESS_SECONDS } from './signatures/freshness.js';
export { type SignInput, signMailgun, signWebhook } from './signatures/sign.js';
export { twilioBodyHashMatches, withTwilioBodyHash } from './signatures/twilio-body-hash.js';
export type {
  CustomSignedPayloadStrategy,
  DigestEncoding,
  HmacAlgorithm,
  SignatureSpec,
  SignedPayloadStrategy,
  VerificationContext,
  VerificationResult,
  WebhookSignatureVerifier,
} from './signatures/types.js';
export { signsTimestamp, verifyHmacSignature } from './signatures/verify.js';

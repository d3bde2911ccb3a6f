/**
 * Reason codes written to the DLQ, returned in reject bodies and used as metric tags. All are
 * snake_case (the reference mixed in PascalCase verifier names; see {@link normalizeReasonCode}).
 */
export const WebhookReason = {
  /** Declared or streamed body larger than `maxBodyBytes` (413). */
  payloadTooLarge: 'payload_too_large',
  /** The body did not arrive within `bodyReadTimeoutMs` (408). */
  bodyTimeout: 'body_timeout',
  /**
   * Body is not strict UTF-8, or is declared JSON but does not parse, or nests deeper than
   * `maxJsonDepth` (400). Checked after the signature.
   */
  invalidPayload: 'invalid_payload',
  /** Client address not in the allow list (403). */
  allowlistMiss: 'allowlist_miss',
  /** Client address in the deny list (403). */
  denylistHit: 'denylist_hit',
  /** Token bucket empty (429 with `Retry-After`). */
  rateLimited: 'rate_limited',
  /** Legacy `X-Webhook-Key` / Bearer shared secret missing or wrong (401). */
  sharedKeyInvalid: 'shared_key_invalid',
  /** Signature header absent or blank (401). */
  missingHeader: 'missing_header',
  /** Signature header present but not in the dialect's shape (401). */
  malformedHeader: 'malformed_header',
  /** Multi-value header carried no signature of an accepted version (401). */
  unsupportedVersion: 'unsupported_version',
  /** A body-resident signature could not be decoded (401). */
  invalidEncoding: 'invalid_encoding',
  /** SHA-1 dialect while `allowLegacySha1` is off (401). */
  algorithmNotAllowed: 'algorithm_not_allowed',
  /** A dialect that signs a timestamp received none (401 from the signature gate, 409 from replay). */
  missingTimestamp: 'missing_timestamp',
  /** A signed timestamp is not an integer count of Unix seconds (or ms for Linear) (401 / 409). */
  invalidTimestamp: 'invalid_timestamp',
  /** No HMAC key configured for a built-in dialect (401). */
  keyNotConfigured: 'key_not_configured',
  /** A URL-signing dialect (Twilio, Square) could not learn the request URL (401). */
  absoluteUrlRequired: 'absolute_url_required',
  /** No candidate signature matched either key (401). */
  digestMismatch: 'digest_mismatch',
  /** A bring-your-own verifier refused without naming a reason (401). */
  signatureInvalid: 'signature_invalid',
  /** Signed timestamp outside the dialect's freshness window (401) or the replay tolerance (409). */
  skewExceeded: 'skew_exceeded',
  /** Nonce already registered (409). */
  nonceSeen: 'nonce_seen',
  /** The replay store threw; the pipeline fails closed (503). */
  replayStoreUnavailable: 'replay_store_unavailable',
} as const;

/** Any reason code the pipeline produces. */
export type WebhookReasonCode = (typeof WebhookReason)[keyof typeof WebhookReason];

/** Reasons the signature verifier can return. */
export type SignatureFailureReason =
  | typeof WebhookReason.missingHeader
  | typeof WebhookReason.malformedHeader
  | typeof WebhookReason.unsupportedVersion
  | typeof WebhookReason.invalidEncoding
  | typeof WebhookReason.algorithmNotAllowed
  | typeof WebhookReason.missingTimestamp
  | typeof WebhookReason.invalidTimestamp
  | typeof WebhookReason.keyNotConfigured
  | typeof WebhookReason.absoluteUrlRequired
  | typeof WebhookReason.digestMismatch
  | typeof WebhookReason.skewExceeded
  | typeof WebhookReason.signatureInvalid;

/**
 * Converts a reason as a user might type it in a filter, including the reference's PascalCase
 * names (`DigestMismatch`, `KeyNotConfigured`), to the snake_case code stored here.
 */
export function normalizeReasonCode(reason: string): string {
  return reason
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[\s-]+/g, '_')
    .toLowerCase();
}

import type { SignatureFailureReason } from '../reasons.js';

/** HMAC hash functions. SHA-1 is only honoured with `allowLegacySha1`. */
export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** How a digest is written in the header. Hex decoding is case-insensitive either way. */
export type DigestEncoding = 'hexLower' | 'hexUpper' | 'base64' | 'base64Url';

/**
 * What bytes the publisher signs:
 * - `rawBody`: the body as received;
 * - `timestampDotBody`: `ts` + delimiter (default `.`) + body (Stripe, Calendly);
 * - `colonDelimited`: version + `:` + `ts` + `:` + body (Slack, Zoom);
 * - `urlPlusSortedForm`: URL + every form field as key+value, sorted by key (Twilio);
 * - `urlPlusBody`: URL + body (Square);
 * - `timestampPlusToken`: `timestamp` + `token` from a `signature` object in the JSON body (Mailgun);
 * - `custom`: bytes produced by a registered custom strategy.
 */
export type SignedPayloadStrategy =
  | 'rawBody'
  | 'timestampDotBody'
  | 'colonDelimited'
  | 'urlPlusSortedForm'
  | 'urlPlusBody'
  | 'timestampPlusToken'
  | 'custom';

/** A signature dialect: where the signature lives, how it is written, and what it covers. */
export interface SignatureSpec {
  /** Header carrying the signature (`""` only for body-resident dialects). */
  readonly headerName: string;
  /** HMAC hash. */
  readonly algorithm: HmacAlgorithm;
  /** Digest encoding. */
  readonly encoding: DigestEncoding;
  /** Required prefix of a single-valued signature, e.g. `sha256=` (case-insensitive). */
  readonly prefix?: string;
  /** Required prefix of the whole header value, e.g. `HMAC ` (case-insensitive). */
  readonly headerValuePrefix?: string;
  /** Splits a multi-valued header (`t=…,v1=…`) into segments. */
  readonly multiValueDelimiter?: string;
  /** Separates a segment's key from its value (default `=`). */
  readonly keyValueSeparator?: string;
  /** Only segments with this key carry signatures. */
  readonly signatureValueKey?: string;
  /** The segment key carrying the timestamp (Stripe's `t`). */
  readonly timestampValueKey?: string;
  /** Only segments with one of these keys carry signatures. */
  readonly acceptedVersions?: readonly string[];
  /** Signed bytes. */
  readonly payload: SignedPayloadStrategy;
  /** Delimiter of `timestampDotBody` / `colonDelimited`. */
  readonly payloadDelimiter?: string;
  /** Version token of `colonDelimited` (Slack's `v0`). */
  readonly payloadVersion?: string;
  /** Strategy name when `payload` is `custom`. */
  readonly customStrategyName?: string;
  /** Header carrying the timestamp when it is not inside the signature header. */
  readonly timestampHeaderName?: string;
  /** Fail with `missing_timestamp` when no timestamp is found. */
  readonly requireTimestamp?: boolean;
  /**
   * How the configured secret becomes HMAC key bytes: its UTF-8 bytes (default), or its base64
   * decoding (Microsoft Teams hands out a base64 security token).
   */
  readonly keyEncoding?: 'utf8' | 'base64';
  /**
   * Freshness window in seconds for a signed timestamp (default 300). A delivery whose signed
   * timestamp is further than this from now, in either direction, is refused even when no replay
   * store is configured.
   */
  readonly freshnessSeconds?: number;
  /**
   * Top-level field of the (signed) JSON body holding the timestamp, for dialects that put it there
   * instead of in a header (Linear's `webhookTimestamp`).
   */
  readonly bodyTimestampField?: string;
  /** Unit of the signed timestamp (default `seconds`; Linear uses `milliseconds`). */
  readonly timestampUnit?: 'seconds' | 'milliseconds';
}

/** Everything a verifier may look at. */
export interface VerificationContext {
  /** Raw body bytes. */
  readonly body: Uint8Array;
  /** All request headers with lower-cased names, unfiltered (Teams signs in `Authorization`). */
  readonly headers: Readonly<Record<string, string>>;
  /** The URL the publisher called, when known (Twilio and Square sign it). */
  readonly absoluteUrl: string | null;
  /** Decoded form fields in arrival order, for form-encoded bodies. */
  readonly formFields: ReadonlyArray<readonly [string, string]> | null;
  /** The dialect; `null` for bring-your-own verifiers. */
  readonly spec: SignatureSpec | null;
  /** Current secret (`""` when none). */
  readonly key: string;
  /** Rotated-out secret still accepted during a rotation, or `null`. */
  readonly previousKey: string | null;
  /** Whether SHA-1 dialects may be honoured. */
  readonly allowLegacySha1: boolean;
  /** Current time in Unix ms for the freshness check (default: the system clock). */
  readonly nowMs?: number;
  /** Overrides the dialect's {@link SignatureSpec.freshnessSeconds}. */
  readonly freshnessSeconds?: number;
  /** Nesting limit when a verifier has to parse the JSON body (Mailgun, Linear; default 64). */
  readonly maxJsonDepth?: number;
}

/** Verdict of a verifier. */
export type VerificationResult =
  | {
      readonly valid: true;
      /** True when only the previous key matched (a rotation is in progress). */
      readonly usedPreviousKey: boolean;
      /** The signed timestamp as the publisher wrote it, for the replay gate; `null` if none. */
      readonly timestamp: string | null;
      /** The signed timestamp in Unix ms (set by the built-in verifier when there is one). */
      readonly timestampMs?: number | null;
      /**
       * Replay nonce derived from authenticated data only (a hash of the signed bytes, or Mailgun's
       * signed token). Verifiers that omit it get a hash of the signed timestamp and the body.
       */
      readonly nonce?: string | null;
    }
  | { readonly valid: false; readonly reason: SignatureFailureReason };

/**
 * A bring-your-own verifier for a publisher with a non-HMAC or unusual scheme. Register it under a
 * name that is not a built-in scheme; `spec` in the context is `null` and `key` may be empty.
 */
export interface WebhookSignatureVerifier {
  /** Decides whether the delivery is authentic. */
  verify(context: VerificationContext): VerificationResult | Promise<VerificationResult>;
}

/** Produces the signed bytes for `payload: 'custom'` specs. */
export type CustomSignedPayloadStrategy = (
  context: VerificationContext & { readonly timestamp: string | null },
) => Uint8Array | string;

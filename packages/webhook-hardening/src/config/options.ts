import { type Clock, systemClock, type WebhookRejectionStore, type WebhookReplayStore } from '@floworch/core';
import { z } from 'zod';
import { DEFAULT_DLQ_LIMITS, type DlqLimits, type ResolvedDlqLimits } from '../dlq/limits.js';
import { WebhookConfigError } from '../errors.js';
import { TokenBucketRateLimiter, type WebhookRateLimiter } from '../gates/rate-limit/token-bucket.js';
import { DEFAULT_MAX_JSON_DEPTH } from '../http/json.js';
import { CidrMatcher } from '../net/cidr.js';
import { silentWebhookLogger, type WebhookLogger } from '../observability/log-events.js';
import { noopWebhookMetrics, type WebhookMetrics } from '../observability/metrics.js';
import { RESERVED_SCHEME_NAMES } from '../signatures/dialects/index.js';
import type {
  CustomSignedPayloadStrategy,
  SignatureSpec,
  WebhookSignatureVerifier,
} from '../signatures/types.js';
import { signatureSpecSchema } from './spec-schema.js';
import { parseOrThrow } from './zod-issues.js';

/**
 * Enforcement mode: `enforce` (the default) refuses failures; `audit` runs the gates and records
 * failures but lets the delivery through; `off` skips the security gates (the body cap and a
 * configured shared key still apply) and is refused at start-up for triggers with security
 * settings unless `allowUnenforcedSecurity` is set.
 */
export type EnforcementMode = 'off' | 'audit' | 'enforce';

/** Global replay defaults. */
export interface ReplayDefaults {
  /** Accepted clock skew in seconds (> 0). Triggers may override it; 0 there turns replay off. */
  readonly toleranceSeconds: number;
  /** Ignored: only a signed timestamp counts (kept so existing options still validate). */
  readonly timestampHeader?: string;
  /** Header holding a delivery id registered as a nonce in addition to the signed one. */
  readonly nonceHeader?: string;
}

/** A token-bucket policy. */
export interface RateLimitSettings {
  /** Sustained permits per second (> 0; fractions allowed). */
  readonly permitsPerSecond: number;
  /** Bucket size (default `max(1, ceil(permitsPerSecond))`). */
  readonly burst?: number;
  /** One bucket per flow and client address instead of per flow. */
  readonly perIp?: boolean;
}

/** Options of {@link createWebhookPipeline}; everything is validated when the pipeline is built. */
export interface WebhookSecurityOptions {
  /** Enforcement mode (default `enforce`). */
  readonly mode?: EnforcementMode;
  /**
   * Accept triggers with security settings while `mode` is `off` (each is then logged as a
   * warning, event 4014). Without it such a trigger is a start-up error. Default false.
   */
  readonly allowUnenforcedSecurity?: boolean;
  /** Honour SHA-1 dialects (GitHubLegacy, Twilio). Default false. */
  readonly allowLegacySha1?: boolean;
  /** Body cap in bytes, applied in every mode (default 1 MiB). */
  readonly maxBodyBytes?: number;
  /** Replay protection for every trigger (default off). */
  readonly replay?: ReplayDefaults;
  /** Rate limit for every trigger (default off). */
  readonly rateLimit?: RateLimitSettings;
  /**
   * Addresses (CIDRs, ranges) of the reverse proxies in front of this server. `X-Forwarded-For` is
   * read only on connections from them; default none: the socket address is the client.
   */
  readonly trustedProxies?: readonly string[];
  /** At most this many `X-Forwarded-For` entries are examined (default 0: all); needs `trustedProxies`. */
  readonly forwardedHeaderDepth?: number;
  /** A body that has not fully arrived after this many ms is refused with 408 (default 10 000). */
  readonly bodyReadTimeoutMs?: number;
  /** JSON bodies nesting deeper than this are refused with 400 (default 64). */
  readonly maxJsonDepth?: number;
  /** Caps, sampling and retention of DLQ rows (defaults in {@link DEFAULT_DLQ_LIMITS}). */
  readonly dlq?: DlqLimits;
  /** Extra or overriding dialects by name (case-insensitive; they shadow built-ins). */
  readonly schemes?: Readonly<Record<string, Partial<SignatureSpec> & { headerName: string }>>;
  /** Producers of signed bytes for `payload: 'custom'` specs, by case-sensitive name. */
  readonly customStrategies?: Readonly<Record<string, CustomSignedPayloadStrategy>>;
  /** Bring-your-own verifiers by name (case-insensitive; built-in names are reserved). */
  readonly verifiers?: Readonly<Record<string, WebhookSignatureVerifier>>;
  /** Nonce ledger; required when any trigger uses replay protection. */
  readonly replayStore?: WebhookReplayStore;
  /** DLQ and recent-deliveries log; without it nothing is recorded. */
  readonly rejectionStore?: WebhookRejectionStore;
  /** Write a row for accepted deliveries too (default true). */
  readonly recordAccepted?: boolean;
  /** Limiter (default: in-process token buckets on `clock`). */
  readonly rateLimiter?: WebhookRateLimiter;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Log sink (default: silent). */
  readonly logger?: WebhookLogger;
  /** Metrics sink (default: none). */
  readonly metrics?: WebhookMetrics;
  /**
   * The public URL the publisher called, for URL-signing dialects (Twilio, Square). Default: the
   * request's own URL, which behind a proxy may differ from what the publisher signed.
   */
  readonly resolveUrl?: (request: Request) => string;
}

/** Options after validation, with every default filled in. */
export interface ResolvedWebhookOptions {
  /** Enforcement mode. */
  readonly mode: EnforcementMode;
  /** Whether `off` accepts triggers with security settings (with a warning). */
  readonly allowUnenforcedSecurity: boolean;
  /** Trusted reverse proxies, or `null` when none are configured. */
  readonly trustedProxies: CidrMatcher | null;
  /** Body read deadline in ms. */
  readonly bodyReadTimeoutMs: number;
  /** JSON nesting limit. */
  readonly maxJsonDepth: number;
  /** DLQ caps, sampling and retention. */
  readonly dlq: ResolvedDlqLimits;
  /** Whether SHA-1 dialects are honoured. */
  readonly allowLegacySha1: boolean;
  /** Body cap in bytes. */
  readonly maxBodyBytes: number;
  /** Global replay defaults, or `null` when off. */
  readonly replay: ReplayDefaults | null;
  /** Global rate limit, or `null` when off. */
  readonly rateLimit: RateLimitSettings | null;
  /** Most `X-Forwarded-For` entries examined (0: all). */
  readonly forwardedHeaderDepth: number;
  /** Registered dialects by lower-cased name. */
  readonly schemes: ReadonlyMap<string, { readonly name: string; readonly spec: SignatureSpec }>;
  /** Custom signed-payload strategies by name. */
  readonly customStrategies: ReadonlyMap<string, CustomSignedPayloadStrategy>;
  /** Bring-your-own verifiers by lower-cased name. */
  readonly verifiers: ReadonlyMap<
    string,
    { readonly name: string; readonly verifier: WebhookSignatureVerifier }
  >;
  /** Nonce ledger, or `null`. */
  readonly replayStore: WebhookReplayStore | null;
  /** DLQ / recent-deliveries log, or `null`. */
  readonly rejectionStore: WebhookRejectionStore | null;
  /** Whether accepted deliveries get a row. */
  readonly recordAccepted: boolean;
  /** The limiter in use. */
  readonly rateLimiter: WebhookRateLimiter;
  /** Time source. */
  readonly clock: Clock;
  /** Log sink. */
  readonly logger: WebhookLogger;
  /** Metrics sink. */
  readonly metrics: WebhookMetrics;
  /** Public URL of a request. */
  readonly resolveUrl: (request: Request) => string;
}

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `expected ${what}` });
const withMethods = <T>(what: string, ...methods: string[]) =>
  z.custom<T>(
    (v) =>
      typeof v === 'object' &&
      v !== null &&
      methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function'),
    { message: `expected ${what} (an object with ${methods.join(', ')})` },
  );

const reserved = new Set(RESERVED_SCHEME_NAMES.map((n) => n.toLowerCase()));

/** Validation of {@link WebhookSecurityOptions}. */
export const webhookSecurityOptionsSchema = z.strictObject({
  mode: z.enum(['off', 'audit', 'enforce']).default('enforce'),
  allowUnenforcedSecurity: z.boolean().default(false),
  trustedProxies: z.array(z.string()).default([]),
  bodyReadTimeoutMs: z.number().int().positive().default(10_000),
  maxJsonDepth: z.number().int().positive().max(10_000).default(DEFAULT_MAX_JSON_DEPTH),
  dlq: z
    .strictObject({
      maxRowsPerWindow: z.number().int().min(0).optional(),
      windowMs: z.number().int().positive().optional(),
      sampleEvery: z.number().int().min(0).optional(),
      retentionMs: z.number().int().positive().nullable().optional(),
      purgeIntervalMs: z.number().int().positive().optional(),
      maxTrackedKeys: z.number().int().positive().optional(),
    })
    .default({}),
  allowLegacySha1: z.boolean().default(false),
  maxBodyBytes: z.number().int().positive().default(1_048_576),
  replay: z
    .strictObject({
      toleranceSeconds: z.number().int().positive(),
      timestampHeader: z.string().trim().min(1).optional(),
      nonceHeader: z.string().trim().min(1).optional(),
    })
    .optional(),
  rateLimit: z
    .strictObject({
      permitsPerSecond: z.number().positive().finite(),
      burst: z.number().int().positive().optional(),
      perIp: z.boolean().optional(),
    })
    .optional(),
  forwardedHeaderDepth: z.number().int().min(0).default(0),
  schemes: z.record(z.string().trim().min(1), signatureSpecSchema).default({}),
  customStrategies: z
    .record(z.string().trim().min(1), fn<CustomSignedPayloadStrategy>('a function'))
    .default({}),
  verifiers: z
    .record(
      z
        .string()
        .trim()
        .min(1)
        .refine((name) => !reserved.has(name.toLowerCase()), {
          message: 'is a built-in scheme name; pick another name for a custom verifier',
        }),
      withMethods<WebhookSignatureVerifier>('a verifier', 'verify'),
    )
    .default({}),
  replayStore: withMethods<WebhookReplayStore>(
    'a WebhookReplayStore',
    'tryRegister',
    'purgeExpired',
  ).optional(),
  rejectionStore: withMethods<WebhookRejectionStore>('a WebhookRejectionStore', 'write').optional(),
  recordAccepted: z.boolean().default(true),
  rateLimiter: withMethods<WebhookRateLimiter>('a rate limiter', 'tryAcquire').optional(),
  clock: withMethods<Clock>('a clock', 'now').optional(),
  logger: withMethods<WebhookLogger>('a logger', 'log').optional(),
  metrics: withMethods<WebhookMetrics>('a metrics sink', 'increment', 'observe').optional(),
  resolveUrl: fn<(request: Request) => string>('a function').optional(),
});

/** Indexes named entries case-insensitively, refusing names that differ only in case. */
function byLowerName<T>(entries: Record<string, T>, what: string): Map<string, { name: string; value: T }> {
  const map = new Map<string, { name: string; value: T }>();
  for (const [name, value] of Object.entries(entries)) {
    const key = name.trim().toLowerCase();
    if (map.has(key))
      throw new WebhookConfigError('webhook options', [`${what}: '${name}' is registered twice`]);
    map.set(key, { name: name.trim(), value });
  }
  return map;
}

/** The entries of `value` whose value is not `undefined` (so they do not erase defaults). */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Validates options and fills in defaults; throws {@link WebhookConfigError} listing every problem. */
export function resolveWebhookOptions(options: WebhookSecurityOptions = {}): ResolvedWebhookOptions {
  const o = parseOrThrow(webhookSecurityOptionsSchema, options, 'webhook options');
  const clock = o.clock ?? systemClock;
  const trustedProxies = new CidrMatcher(o.trustedProxies);
  const problems = trustedProxies.invalidEntries.map(
    (bad) => `trustedProxies: '${bad}' is not an address, CIDR, range or wildcard`,
  );
  if (o.forwardedHeaderDepth > 0 && trustedProxies.isEmpty) {
    problems.push(
      'forwardedHeaderDepth: X-Forwarded-For is only read from trusted proxies; list them in trustedProxies',
    );
  }
  if (problems.length) throw new WebhookConfigError('webhook options', problems);
  const schemes = new Map(
    [...byLowerName(o.schemes, 'schemes')].map(([k, { name, value }]) => [
      k,
      { name, spec: value as SignatureSpec },
    ]),
  );
  const verifiers = new Map(
    [...byLowerName(o.verifiers, 'verifiers')].map(([k, { name, value }]) => [k, { name, verifier: value }]),
  );
  for (const key of verifiers.keys()) {
    if (schemes.has(key)) {
      throw new WebhookConfigError('webhook options', [`'${key}' is both a scheme and a verifier`]);
    }
  }
  return {
    mode: o.mode,
    allowUnenforcedSecurity: o.allowUnenforcedSecurity,
    trustedProxies: trustedProxies.isEmpty ? null : trustedProxies,
    bodyReadTimeoutMs: o.bodyReadTimeoutMs,
    maxJsonDepth: o.maxJsonDepth,
    dlq: { ...DEFAULT_DLQ_LIMITS, ...definedOnly(o.dlq) },
    allowLegacySha1: o.allowLegacySha1,
    maxBodyBytes: o.maxBodyBytes,
    replay: o.replay ?? null,
    rateLimit: o.rateLimit ?? null,
    forwardedHeaderDepth: o.forwardedHeaderDepth,
    schemes,
    customStrategies: new Map(Object.entries(o.customStrategies)),
    verifiers,
    replayStore: o.replayStore ?? null,
    rejectionStore: o.rejectionStore ?? null,
    recordAccepted: o.recordAccepted,
    rateLimiter: o.rateLimiter ?? new TokenBucketRateLimiter({ clock }),
    clock,
    logger: o.logger ?? silentWebhookLogger,
    metrics: o.metrics ?? noopWebhookMetrics,
    resolveUrl: o.resolveUrl ?? ((request) => request.url),
  };
}

import { WebhookConfigError } from '../errors.js';
import { CidrMatcher } from '../net/cidr.js';
import { isLocalPreset, publisherPreset, removedPresetReason } from '../net/presets.js';
import { emitLog, WebhookLogEvent } from '../observability/log-events.js';
import { builtInScheme } from '../signatures/dialects/index.js';
import { keyBytes } from '../signatures/hmac.js';
import type { SignatureSpec, WebhookSignatureVerifier } from '../signatures/types.js';
import { signsTimestamp } from '../signatures/verify.js';
import type { ResolvedWebhookOptions } from './options.js';
import { type WebhookTriggerSecurity, webhookTriggerSecuritySchema } from './trigger-security.js';
import { describeIssues } from './zod-issues.js';

/** How a trigger's signatures are checked. */
export type CompiledSignature =
  | {
      readonly kind: 'hmac';
      readonly schemeName: string;
      readonly spec: SignatureSpec;
      readonly key: string;
      readonly previousKey: string | null;
      readonly freshnessSeconds: number | null;
    }
  | {
      readonly kind: 'verifier';
      readonly schemeName: string;
      readonly verifier: WebhookSignatureVerifier;
      readonly key: string | null;
      readonly previousKey: string | null;
      readonly freshnessSeconds: number | null;
    };

/** A trigger's security settings, validated and merged with the global defaults. */
export interface CompiledTriggerSecurity {
  /** Legacy shared secret, or `null`. */
  readonly sharedSecret: string | null;
  /** Signature check, or `null` for none. */
  readonly signature: CompiledSignature | null;
  /** Replay settings, or `null` when off. */
  readonly replay: {
    readonly toleranceSeconds: number;
    readonly timestampHeader: string | null;
    readonly nonceHeader: string | null;
    readonly allowMissingTimestamp: boolean;
  } | null;
  /** Rate limit, or `null` when off. */
  readonly rateLimit: {
    readonly permitsPerSecond: number;
    readonly burst: number | null;
    readonly perIp: boolean;
  } | null;
  /** Allow list (explicit entries plus presets), or `null` when none is configured. */
  readonly allowList: CidrMatcher | null;
  /** Deny list, or `null`. */
  readonly denyList: CidrMatcher | null;
}

function compileSignature(
  settings: NonNullable<WebhookTriggerSecurity['signature']>,
  options: ResolvedWebhookOptions,
  problems: string[],
): CompiledSignature | null {
  const lower = settings.scheme.trim().toLowerCase();
  const key = settings.key ?? '';
  const previousKey = settings.previousKey?.trim() ? settings.previousKey : null;
  const freshnessSeconds = settings.freshnessSeconds ?? null;

  const verifier = options.verifiers.get(lower);
  if (verifier) {
    return {
      kind: 'verifier',
      schemeName: verifier.name,
      verifier: verifier.verifier,
      key: key || null,
      previousKey,
      freshnessSeconds,
    };
  }
  let resolved: { name: string; spec: SignatureSpec } | null =
    options.schemes.get(lower) ?? builtInScheme(lower);
  if (!resolved && lower === 'custom') {
    if (!settings.custom) problems.push("signature.custom: required when the scheme is 'Custom'");
    else resolved = { name: 'Custom', spec: settings.custom as SignatureSpec };
  } else if (!resolved) {
    const known = [
      ...[...options.schemes.values()].map((s) => s.name),
      ...[...options.verifiers.values()].map((v) => v.name),
    ];
    problems.push(
      `signature.scheme: unknown scheme '${settings.scheme}'; use a built-in dialect, 'Custom'` +
        (known.length ? `, or one of: ${known.join(', ')}` : ', or register it in the options'),
    );
  }
  if (!resolved) return null;

  const { name, spec } = resolved;
  if (!key.trim()) problems.push(`signature.key: scheme '${name}' needs an HMAC key`);
  else if (!keyBytes(key, spec)?.byteLength)
    problems.push(`signature.key: not valid for scheme '${name}' (base64 expected)`);
  if (previousKey && !keyBytes(previousKey, spec)?.byteLength) {
    problems.push(`signature.previousKey: not valid for scheme '${name}' (base64 expected)`);
  }
  if (spec.algorithm === 'sha1' && !options.allowLegacySha1) {
    problems.push(
      `signature.scheme: '${name}' signs with SHA-1; set allowLegacySha1 in the options to accept it`,
    );
  }
  if (spec.payload === 'custom' && !options.customStrategies.has(spec.customStrategyName ?? '')) {
    problems.push(`signature: custom payload strategy '${spec.customStrategyName}' is not registered`);
  }
  return { kind: 'hmac', schemeName: name, spec, key, previousKey, freshnessSeconds };
}

function compileAllowList(ip: WebhookTriggerSecurity['ip'], problems: string[]): CidrMatcher | null {
  const entries = [...(ip?.allow ?? [])];
  for (const preset of ip?.presets ?? []) {
    const cidrs = publisherPreset(preset);
    const removed = cidrs ? null : removedPresetReason(preset);
    if (cidrs) entries.push(...cidrs);
    else if (removed) problems.push(`ip.presets: preset '${preset}' was removed: ${removed}`);
    else problems.push(`ip.presets: unknown preset '${preset}'`);
  }
  if (entries.length === 0 && !ip?.presets?.length) return null;
  const matcher = new CidrMatcher(entries);
  for (const bad of matcher.invalidEntries)
    problems.push(`ip.allow: '${bad}' is not an address, CIDR, range or wildcard`);
  return matcher;
}

function compileDenyList(ip: WebhookTriggerSecurity['ip'], problems: string[]): CidrMatcher | null {
  if (!ip?.deny?.length) return null;
  const matcher = new CidrMatcher(ip.deny);
  for (const bad of matcher.invalidEntries)
    problems.push(`ip.deny: '${bad}' is not an address, CIDR, range or wildcard`);
  return matcher.isEmpty ? null : matcher;
}

/**
 * Replay settings merged over the global defaults. Replay protection builds its nonce from what
 * the signature authenticated, so it needs a signature: a trigger asking for it without one is an
 * error, while global defaults simply do not apply to unsigned triggers. A dialect that signs no
 * timestamp needs `allowMissingTimestamp`, acknowledging the weaker, time-limited deduplication.
 */
function compileReplay(
  s: WebhookTriggerSecurity,
  signature: CompiledSignature | null,
  options: ResolvedWebhookOptions,
  problems: string[],
): CompiledTriggerSecurity['replay'] {
  const own = s.replay?.toleranceSeconds;
  const tolerance = own ?? options.replay?.toleranceSeconds ?? 0;
  if (tolerance <= 0) return null;
  if (!s.signature) {
    if (own !== undefined) {
      problems.push('replay: needs a signature scheme (nonces are built only from signed data)');
    }
    return null;
  }
  const replay = {
    toleranceSeconds: tolerance,
    timestampHeader: s.replay?.timestampHeader ?? options.replay?.timestampHeader ?? null,
    nonceHeader: s.replay?.nonceHeader ?? options.replay?.nonceHeader ?? null,
    allowMissingTimestamp: s.replay?.allowMissingTimestamp ?? false,
  };
  if (signature?.kind === 'hmac' && !signsTimestamp(signature.spec) && !replay.allowMissingTimestamp) {
    problems.push(
      `replay: '${signature.schemeName}' signs no timestamp; set replay.allowMissingTimestamp to ` +
        'deduplicate on the signed body alone (a replay after 2 × tolerance is then accepted)',
    );
  }
  if (!options.replayStore) problems.push('replay: replay protection needs a replayStore in the options');
  return replay;
}

/**
 * Validates a trigger's security settings against the options and merges in the global defaults.
 * Every problem is collected and reported together in one {@link WebhookConfigError}.
 */
export function compileTriggerSecurity(
  security: WebhookTriggerSecurity,
  options: ResolvedWebhookOptions,
  where = 'webhook trigger security',
): CompiledTriggerSecurity {
  const parsed = webhookTriggerSecuritySchema.safeParse(security);
  if (!parsed.success) throw new WebhookConfigError(where, describeIssues(parsed.error));
  const s = parsed.data as WebhookTriggerSecurity;
  const problems: string[] = [];

  const signature = s.signature ? compileSignature(s.signature, options, problems) : null;

  const replay = compileReplay(s, signature, options, problems);
  const limit = s.rateLimit ?? options.rateLimit;
  const rateLimit =
    limit && limit.permitsPerSecond > 0
      ? { permitsPerSecond: limit.permitsPerSecond, burst: limit.burst ?? null, perIp: limit.perIp ?? false }
      : null;

  const allowList = compileAllowList(s.ip, problems);
  const denyList = compileDenyList(s.ip, problems);
  const secured = Boolean(signature || replay || rateLimit || allowList || denyList);
  if (options.mode === 'off' && secured && !options.allowUnenforcedSecurity) {
    problems.push(
      "mode is 'off', so this trigger's signature, replay, rate-limit and IP settings would be " +
        "ignored; use 'enforce' (the default) or 'audit', or set allowUnenforcedSecurity",
    );
  }
  if (problems.length) throw new WebhookConfigError(where, problems);
  if (options.mode === 'off' && secured) {
    emitLog(options.logger, WebhookLogEvent.securityNotEnforced, `Mode 'off': ${where} is not enforced.`, {
      where,
    });
  }
  const localPresets = (s.ip?.presets ?? []).filter(isLocalPreset);
  if (localPresets.length && !options.trustedProxies) {
    emitLog(
      options.logger,
      WebhookLogEvent.presetRisk,
      `${where} allows ${localPresets.join(', ')}; behind a reverse proxy every request matches unless trustedProxies is set.`,
      { where, presets: localPresets },
    );
  }
  return { sharedSecret: s.sharedSecret ?? null, signature, replay, rateLimit, allowList, denyList };
}

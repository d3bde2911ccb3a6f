import { WebhookConfigError } from '../errors.js';
import { CidrMatcher } from '../net/cidr.js';
import { publisherPreset } from '../net/presets.js';
import { builtInScheme } from '../signatures/dialects/index.js';
import { keyBytes } from '../signatures/hmac.js';
import type { SignatureSpec, WebhookSignatureVerifier } from '../signatures/types.js';
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
    }
  | {
      readonly kind: 'verifier';
      readonly schemeName: string;
      readonly verifier: WebhookSignatureVerifier;
      readonly key: string | null;
      readonly previousKey: string | null;
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

  const verifier = options.verifiers.get(lower);
  if (verifier) {
    return {
      kind: 'verifier',
      schemeName: verifier.name,
      verifier: verifier.verifier,
      key: key || null,
      previousKey,
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
  return { kind: 'hmac', schemeName: name, spec, key, previousKey };
}

function compileAllowList(ip: WebhookTriggerSecurity['ip'], problems: string[]): CidrMatcher | null {
  const entries = [...(ip?.allow ?? [])];
  for (const preset of ip?.presets ?? []) {
    const cidrs = publisherPreset(preset);
    if (cidrs) entries.push(...cidrs);
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

  const tolerance = s.replay?.toleranceSeconds ?? options.replay?.toleranceSeconds ?? 0;
  const replay =
    tolerance > 0
      ? {
          toleranceSeconds: tolerance,
          timestampHeader: s.replay?.timestampHeader ?? options.replay?.timestampHeader ?? null,
          nonceHeader: s.replay?.nonceHeader ?? options.replay?.nonceHeader ?? null,
          allowMissingTimestamp: s.replay?.allowMissingTimestamp ?? false,
        }
      : null;
  if (replay?.allowMissingTimestamp && !replay.nonceHeader) {
    problems.push('replay.allowMissingTimestamp: needs a nonceHeader to deduplicate on');
  }
  if (replay && !options.replayStore)
    problems.push('replay: replay protection needs a replayStore in the options');

  const limit = s.rateLimit ?? options.rateLimit;
  const rateLimit =
    limit && limit.permitsPerSecond > 0
      ? { permitsPerSecond: limit.permitsPerSecond, burst: limit.burst ?? null, perIp: limit.perIp ?? false }
      : null;

  const allowList = compileAllowList(s.ip, problems);
  const denyList = compileDenyList(s.ip, problems);
  if (problems.length) throw new WebhookConfigError(where, problems);
  return { sharedSecret: s.sharedSecret ?? null, signature, replay, rateLimit, allowList, denyList };
}

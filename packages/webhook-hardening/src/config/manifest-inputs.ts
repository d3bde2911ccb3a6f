import type { SignatureSpec } from '../signatures/types.js';
import type { WebhookTriggerSecurity } from './trigger-security.js';

/** A webhook trigger's manifest inputs mapped to typed settings. */
export interface ManifestWebhookSettings {
  /** URL slug (`webhookSlug`), or `null`. */
  readonly slug: string | null;
  /** Security settings, ready for `compileTriggerSecurity`. */
  readonly security: WebhookTriggerSecurity;
  /**
   * Both `webhookHmacKey` and `webhookSecret` are set: the HMAC key wins for signatures and the
   * secret stays a shared key. Worth a warning (event 4011), since it is often a mistake.
   */
  readonly conflictingKeyFields: boolean;
}

/** Case-insensitive view of manifest inputs. */
function lookup(inputs: Readonly<Record<string, unknown>>): (key: string) => unknown {
  const lower = new Map(Object.entries(inputs).map(([k, v]) => [k.toLowerCase(), v]));
  return (key) => lower.get(key.toLowerCase());
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value
    : typeof value === 'number'
      ? String(value)
      : undefined;

/** Numbers may arrive as numbers or numeric strings; anything else is passed on to fail validation. */
function num(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return value as number;
}

function bool(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && /^(true|false)$/i.test(value.trim()))
    return value.trim().toLowerCase() === 'true';
  return value as boolean;
}

/** Comma-separated string or string array → trimmed, non-empty entries. */
function list(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items =
    typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value.map(String) : [String(value)];
  const out = items.map((s) => s.trim()).filter((s) => s !== '');
  return out.length ? out : undefined;
}

/** Enum values in manifests are case-insensitive (`SHA256`, `HexLower`, `RawBody`). */
function enumValue<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  const raw = text(value);
  if (raw === undefined) return undefined;
  // An unknown value is passed through unchanged so validation names it.
  return allowed.find((a) => a.toLowerCase() === raw.trim().toLowerCase()) ?? (raw as T);
}

function customSpec(get: (key: string) => unknown): Partial<SignatureSpec> & { headerName: string } {
  const versions = get('webhookAcceptedVersions');
  const spec: Record<string, unknown> = {
    headerName: text(get('webhookSignatureHeader')) ?? '',
    algorithm: enumValue(get('webhookSignatureAlgorithm'), ['sha1', 'sha256', 'sha384', 'sha512']),
    encoding: enumValue(get('webhookSignatureEncoding'), ['hexLower', 'hexUpper', 'base64', 'base64Url']),
    prefix: text(get('webhookSignaturePrefix')),
    headerValuePrefix: text(get('webhookHeaderValuePrefix')),
    multiValueDelimiter: text(get('webhookSignatureMultiValueDelimiter')),
    keyValueSeparator: text(get('webhookSignatureKeyValueSeparator')),
    signatureValueKey: text(get('webhookSignatureValueKey')),
    timestampValueKey: text(get('webhookTimestampValueKey')),
    // A single string is one version, not a comma list (kept from the reference).
    acceptedVersions:
      typeof versions === 'string' ? [versions] : Array.isArray(versions) ? versions.map(String) : undefined,
    payload: enumValue(get('webhookSignedPayloadStrategy'), [
      'rawBody',
      'timestampDotBody',
      'colonDelimited',
      'urlPlusSortedForm',
      'urlPlusBody',
      'timestampPlusToken',
      'custom',
    ]),
    payloadDelimiter: text(get('webhookSignedPayloadDelimiter')),
    payloadVersion: text(get('webhookSignedPayloadVersion')),
    customStrategyName: text(get('webhookCustomStrategyName')),
    timestampHeaderName: text(get('webhookTimestampHeader')),
    requireTimestamp: bool(get('webhookRequireTimestamp')),
  };
  for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
  return spec as Partial<SignatureSpec> & { headerName: string };
}

/**
 * Maps the manifest inputs of a webhook trigger (the reference's `webhook*` keys, matched
 * case-insensitively) to {@link WebhookTriggerSecurity}. Key rules:
 * - the HMAC key is `webhookHmacKey`, else `webhookSecret`; the previous key likewise;
 * - `webhookSecret` is the shared key callers must present, except when it only serves as the HMAC
 *   key (a scheme is set and `webhookHmacKey` is not): publishers such as GitHub cannot send an
 *   extra header, so demanding one would refuse every genuine delivery.
 */
export function webhookSettingsFromInputs(
  inputs: Readonly<Record<string, unknown>>,
): ManifestWebhookSettings {
  const get = lookup(inputs);
  const secret = text(get('webhookSecret'));
  const hmacKey = text(get('webhookHmacKey'));
  const scheme = text(get('webhookSignatureScheme'));
  const security: Record<string, unknown> = {};

  if (scheme) {
    const previous = text(get('webhookHmacKeyPrevious')) ?? text(get('webhookSecretPrevious'));
    const freshness = num(get('webhookSignatureFreshnessSeconds'));
    security.signature = {
      scheme,
      ...(freshness !== undefined ? { freshnessSeconds: freshness } : {}),
      ...((hmacKey ?? secret) ? { key: hmacKey ?? secret } : {}),
      ...(previous ? { previousKey: previous } : {}),
      ...(scheme.trim().toLowerCase() === 'custom' ? { custom: customSpec(get) } : {}),
    };
  }
  if (secret && (!scheme || hmacKey)) security.sharedSecret = secret;

  const tolerance = num(get('webhookReplayToleranceSeconds'));
  const timestampHeader = text(get('webhookTimestampHeader'));
  const nonceHeader = text(get('webhookNonceHeader'));
  const allowMissingTimestamp = bool(get('webhookReplayAllowMissingTimestamp'));
  if (tolerance !== undefined || timestampHeader || nonceHeader || allowMissingTimestamp !== undefined) {
    security.replay = {
      ...(tolerance !== undefined ? { toleranceSeconds: tolerance } : {}),
      ...(timestampHeader ? { timestampHeader } : {}),
      ...(nonceHeader ? { nonceHeader } : {}),
      ...(allowMissingTimestamp !== undefined ? { allowMissingTimestamp } : {}),
    };
  }

  const pps = num(get('webhookRateLimitPermitsPerSecond'));
  if (pps !== undefined) {
    const burst = num(get('webhookRateLimitBurstSize'));
    const perIp = bool(get('webhookRateLimitPerIp'));
    security.rateLimit = {
      permitsPerSecond: pps,
      ...(burst !== undefined ? { burst: typeof burst === 'number' ? Math.trunc(burst) : burst } : {}),
      ...(perIp !== undefined ? { perIp } : {}),
    };
  }

  const allow = list(get('webhookIpAllowList'));
  const deny = list(get('webhookIpDenyList'));
  const presets = [
    ...(list(get('webhookIpAllowListPreset')) ?? []),
    ...(list(get('webhookIpAllowListPresets')) ?? []),
  ];
  if (allow || deny || presets.length) {
    security.ip = {
      ...(allow ? { allow } : {}),
      ...(deny ? { deny } : {}),
      ...(presets.length ? { presets } : {}),
    };
  }

  return {
    slug: text(get('webhookSlug'))?.trim() ?? null,
    security: security as WebhookTriggerSecurity,
    conflictingKeyFields: Boolean(secret && hmacKey),
  };
}

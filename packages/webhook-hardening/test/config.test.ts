import { createInMemoryWebhookReplayStore } from '@floworch/inmemory';
import { describe, expect, it } from 'vitest';
import {
  createWebhookPipeline,
  normalizeReasonCode,
  WebhookConfigError,
  type WebhookSecurityOptions,
  type WebhookTriggerSecurity,
  webhookSettingsFromInputs,
} from '../src/index.js';

const compileWith = (security: WebhookTriggerSecurity, options: WebhookSecurityOptions = {}) =>
  createWebhookPipeline(options).compile(security);

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof WebhookConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a WebhookConfigError');
};

describe('options validation', () => {
  it.each<[string, WebhookSecurityOptions, RegExp]>([
    ['a body cap of 0', { maxBodyBytes: 0 }, /maxBodyBytes/],
    ['a zero rate', { rateLimit: { permitsPerSecond: 0 } }, /rateLimit\.permitsPerSecond/],
    ['a negative forwarded depth', { forwardedHeaderDepth: -1 }, /forwardedHeaderDepth/],
    ['a zero replay tolerance', { replay: { toleranceSeconds: 0 } }, /replay\.toleranceSeconds/],
    ['an unknown mode', { mode: 'strict' as never }, /mode/],
    ['an unknown option', { maxBodySize: 5 } as never, /maxBodySize/],
  ])('refuses %s', (_, options, pattern) => {
    expect(() => createWebhookPipeline(options)).toThrow(pattern);
  });

  it.each([
    'GitHub',
    'github',
    'Stripe',
    'STRIPE',
    'Slack',
    'Mailgun',
    'Custom',
    'custom',
    'None',
    '',
    '   ',
  ])('refuses a custom verifier named %j', (name) => {
    const verifier = { verify: () => ({ valid: true as const, usedPreviousKey: false, timestamp: null }) };
    expect(() => createWebhookPipeline({ verifiers: { [name]: verifier } })).toThrow(WebhookConfigError);
  });
});

describe('trigger validation at start-up', () => {
  it('an unknown scheme name is an error, not a silently skipped check', () => {
    expect(problemsOf(() => compileWith({ signature: { scheme: 'Gitlab', key: 'k' } }))[0]).toMatch(
      /unknown scheme 'Gitlab'/,
    );
    expect(() => compileWith({ signature: { scheme: '2', key: 'k' } })).toThrow(/unknown scheme/);
  });

  it('a missing key, an invalid Teams token and SHA-1 without the flag are errors', () => {
    expect(problemsOf(() => compileWith({ signature: { scheme: 'GitHub' } }))).toEqual([
      "signature.key: scheme 'GitHub' needs an HMAC key",
    ]);
    expect(
      problemsOf(() => compileWith({ signature: { scheme: 'MicrosoftTeams', key: 'not base64!' } }))[0],
    ).toMatch(/base64/);
    expect(problemsOf(() => compileWith({ signature: { scheme: 'Twilio', key: 'k' } }))[0]).toMatch(
      /allowLegacySha1/,
    );
    expect(() =>
      compileWith({ signature: { scheme: 'Twilio', key: 'k' } }, { allowLegacySha1: true }),
    ).not.toThrow();
  });

  it('bad CIDRs and unknown presets are named; every problem is reported at once', () => {
    const problems = problemsOf(() =>
      compileWith({
        ip: { allow: ['10.0.0.0/8', 'garbage', '10.0.0.0/99'], presets: ['nope'], deny: ['1.2.3'] },
      }),
    );
    expect(problems).toEqual([
      "ip.presets: unknown preset 'nope'",
      "ip.allow: 'garbage' is not an address, CIDR, range or wildcard",
      "ip.allow: '10.0.0.0/99' is not an address, CIDR, range or wildcard",
      "ip.deny: '1.2.3' is not an address, CIDR, range or wildcard",
    ]);
  });

  it('replay protection needs a replay store', () => {
    const stripe = { scheme: 'Stripe', key: 'k' };
    expect(() => compileWith({ signature: stripe, replay: { toleranceSeconds: 60 } })).toThrow(/replayStore/);
    expect(() =>
      compileWith(
        { signature: stripe, replay: { toleranceSeconds: 60 } },
        { replayStore: createInMemoryWebhookReplayStore() },
      ),
    ).not.toThrow();
  });

  it('replay needs a signature, and allowMissingTimestamp for dialects that sign no timestamp', () => {
    const replayStore = createInMemoryWebhookReplayStore();
    expect(() => compileWith({ replay: { toleranceSeconds: 60 } }, { replayStore })).toThrow(
      /needs a signature scheme/,
    );
    const github = { scheme: 'GitHub', key: 'k' };
    expect(() =>
      compileWith({ signature: github, replay: { toleranceSeconds: 60 } }, { replayStore }),
    ).toThrow(/'GitHub' signs no timestamp; set replay.allowMissingTimestamp/);
    expect(() =>
      compileWith(
        { signature: github, replay: { toleranceSeconds: 60, allowMissingTimestamp: true } },
        { replayStore },
      ),
    ).not.toThrow();
    // Global defaults simply do not apply to unsigned triggers.
    expect(compileWith({}, { replayStore, replay: { toleranceSeconds: 60 } }).replay).toBeNull();
  });

  it('a custom payload strategy must be registered', () => {
    const custom = { headerName: 'X-Sig', payload: 'custom' as const, customStrategyName: 'mine' };
    expect(() => compileWith({ signature: { scheme: 'Custom', key: 'k', custom } })).toThrow(
      /'mine' is not registered/,
    );
    expect(() =>
      compileWith(
        { signature: { scheme: 'Custom', key: 'k', custom } },
        { customStrategies: { mine: () => 'x' } },
      ),
    ).not.toThrow();
  });

  it('scheme resolution: built-ins case-insensitive, overlays shadow built-ins', () => {
    const builtIn = compileWith({ signature: { scheme: 'github', key: 'k' } }).signature;
    expect(builtIn).toMatchObject({
      kind: 'hmac',
      schemeName: 'GitHub',
      spec: { headerName: 'X-Hub-Signature-256' },
    });
    const overlay = compileWith(
      { signature: { scheme: 'GitHub', key: 'k' } },
      { schemes: { GitHub: { headerName: 'X-Override' } } },
    ).signature;
    expect(overlay).toMatchObject({ spec: { headerName: 'X-Override', algorithm: 'sha256' } });
    expect(compileWith({}).signature).toBeNull();
  });
});

describe('manifest inputs', () => {
  it('maps every Custom field (enum names case-insensitive)', () => {
    const { security } = webhookSettingsFromInputs({
      WebhookSignatureScheme: 'Custom',
      webhookHmacKey: 'k',
      webhookSignatureHeader: 'X-Acme',
      webhookSignatureAlgorithm: 'SHA512',
      webhookSignatureEncoding: 'Base64',
      webhookSignaturePrefix: 'v1=',
      webhookSignedPayloadStrategy: 'TimestampDotBody',
      webhookSignedPayloadDelimiter: '.',
      webhookRequireTimestamp: 'true',
      webhookTimestampHeader: 'X-Acme-Ts',
    });
    const compiled = compileWith(security);
    expect(compiled.signature).toMatchObject({
      kind: 'hmac',
      schemeName: 'Custom',
      spec: {
        headerName: 'X-Acme',
        algorithm: 'sha512',
        encoding: 'base64',
        prefix: 'v1=',
        payload: 'timestampDotBody',
        payloadDelimiter: '.',
        requireTimestamp: true,
        timestampHeaderName: 'X-Acme-Ts',
      },
    });
  });

  it('an invalid enum value is an error rather than a silent default', () => {
    const { security } = webhookSettingsFromInputs({
      webhookSignatureScheme: 'Custom',
      webhookHmacKey: 'k',
      webhookSignatureHeader: 'X',
      webhookSignatureAlgorithm: 'md5',
    });
    expect(() => compileWith(security)).toThrow(/signature\.custom\.algorithm/);
  });

  it('key fields: webhookHmacKey wins; webhookSecret alone is the HMAC key, not a shared key', () => {
    const alone = webhookSettingsFromInputs({ webhookSignatureScheme: 'GitHub', webhookSecret: 's' });
    expect(alone.security).toEqual({ signature: { scheme: 'GitHub', key: 's' } });
    expect(alone.conflictingKeyFields).toBe(false);
    const both = webhookSettingsFromInputs({
      webhookSignatureScheme: 'GitHub',
      webhookSecret: 's',
      webhookHmacKey: 'h',
    });
    expect(both.security).toEqual({ signature: { scheme: 'GitHub', key: 'h' }, sharedSecret: 's' });
    expect(both.conflictingKeyFields).toBe(true);
    const legacy = webhookSettingsFromInputs({ webhookSlug: 'orders', webhookSecret: 's' });
    expect(legacy).toMatchObject({ slug: 'orders', security: { sharedSecret: 's' } });
  });

  it('maps the opt-in nonce-only replay flag', () => {
    const { security } = webhookSettingsFromInputs({
      webhookNonceHeader: 'X-GitHub-Delivery',
      webhookReplayAllowMissingTimestamp: 'true',
    });
    expect(security).toEqual({ replay: { nonceHeader: 'X-GitHub-Delivery', allowMissingTimestamp: true } });
  });

  it('maps replay, rate-limit and IP inputs with their coercions', () => {
    const { security } = webhookSettingsFromInputs({
      webhookReplayToleranceSeconds: '120',
      webhookNonceHeader: 'X-GitHub-Delivery',
      webhookRateLimitPermitsPerSecond: '2.5',
      webhookRateLimitBurstSize: 7.9,
      webhookRateLimitPerIp: true,
      webhookIpAllowList: ' 10.0.0.0/8, ,192.168.0.0/16 ',
      webhookIpAllowListPreset: 'github',
      webhookIpAllowListPresets: ['stripe'],
      webhookIpDenyList: ['10.9.9.9'],
    });
    expect(security).toEqual({
      replay: { toleranceSeconds: 120, nonceHeader: 'X-GitHub-Delivery' },
      rateLimit: { permitsPerSecond: 2.5, burst: 7, perIp: true },
      ip: { allow: ['10.0.0.0/8', '192.168.0.0/16'], deny: ['10.9.9.9'], presets: ['github', 'stripe'] },
    });
  });
});

describe('reason codes', () => {
  it('normalises the reference names to snake_case', () => {
    expect(normalizeReasonCode('DigestMismatch')).toBe('digest_mismatch');
    expect(normalizeReasonCode('KeyNotConfigured')).toBe('key_not_configured');
    expect(normalizeReasonCode('rate_limited')).toBe('rate_limited');
  });
});

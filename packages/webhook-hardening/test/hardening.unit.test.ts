/**
 * Unit tests for the smaller items of issue 15 (9–14): redaction, null-prototype forms, the shared
 * key, generic refusals, raw-text bodies and Twilio's field order, and the narrowed IP presets.
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  CidrMatcher,
  createNodeWebhookListener,
  decodePayload,
  PUBLISHER_PRESET_NAMES,
  parseIpRule,
  publisherPresetInfo,
  rejectionResponse,
  signMailgun,
  signWebhook,
  suppliedSharedKey,
  type WebhookTriggerSecurity,
} from '../src/index.js';
import { harness, T0 } from './harness.js';
import { FLOW_ID, post, scheme, verify } from './helpers.js';

const target = (security: WebhookTriggerSecurity) => ({ flowId: FLOW_ID, triggerKey: 'webhook', security });
const github = { signature: { scheme: 'GitHub', key: 'gh' } };

describe('9. signature headers are redacted in DLQ rows and run headers', () => {
  it('a refused delivery keeps no usable signature in its row', async () => {
    const h = harness();
    const body = '{"a":1}';
    const valid = signWebhook(scheme('GitHub'), 'gh', { body });
    // Refused for its address, although the signature is valid: the row must not allow a replay.
    await h.pipeline.evaluate(post(body, valid), target({ ...github, ip: { allow: ['10.0.0.0/8'] } }), {
      remoteAddress: '192.0.2.1',
    });
    const [row] = await h.rows();
    expect(JSON.parse(row!.headersJson!)).toMatchObject({ 'x-hub-signature-256': '[redacted]' });
    expect(row!.headersJson).not.toContain(valid['X-Hub-Signature-256']!.slice(7));
  });

  it('runs receive the signature header redacted, including a custom dialect header', async () => {
    const h = harness();
    const custom = {
      headerName: 'X-Acme-Sig',
      algorithm: 'sha256',
      encoding: 'hexLower',
      payload: 'rawBody',
    } as const;
    const body = '{}';
    const headers = { ...signWebhook(custom, 'k', { body }), 'Stripe-Signature': 't=1,v1=ab' };
    const decision = await h.pipeline.evaluate(
      post(body, headers),
      target({ signature: { scheme: 'Custom', key: 'k', custom } }),
    );
    expect(decision.outcome).toBe('accept');
    if (decision.outcome !== 'accept') return;
    expect(decision.delivery.headers).toMatchObject({
      'x-acme-sig': '[redacted]',
      'stripe-signature': '[redacted]',
    });
  });

  it('a refused Mailgun delivery (signature in the body) keeps no body excerpt', async () => {
    const h = harness();
    const body = JSON.stringify({ signature: signMailgun('mg', String(T0), 'tok'), 'event-data': {} });
    await h.pipeline.evaluate(
      post(body, { 'content-type': 'application/json' }),
      target({ signature: { scheme: 'Mailgun', key: 'mg' }, ip: { allow: ['10.0.0.0/8'] } }),
      { remoteAddress: '192.0.2.1' },
    );
    const [row] = await h.rows();
    expect(row).toMatchObject({ reason: 'allowlist_miss', bodyTruncated: null });
  });
});

describe('10. form bodies decode into null-prototype objects', () => {
  it('__proto__ and constructor are plain fields', () => {
    const decoded = decodePayload(
      Buffer.from('__proto__=x&constructor=y&toString=z&a=1'),
      'application/x-www-form-urlencoded',
    );
    const data = decoded!.data as Record<string, unknown>;
    expect(Object.getPrototypeOf(data)).toBeNull();
    expect(Object.hasOwn(data, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(data, '__proto__')?.value).toBe('x');
    expect(data.constructor).toBe('y');
    expect(data.toString).toBe('z');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('repeated prototype-named fields become arrays', () => {
    const data = decodePayload(
      Buffer.from('constructor=a&constructor=b'),
      'application/x-www-form-urlencoded',
    )!.data as Record<string, unknown>;
    expect(data.constructor).toEqual(['a', 'b']);
  });
});

describe('11. the shared key', () => {
  it('strips only a leading Bearer', () => {
    const key = (authorization: string) => suppliedSharedKey({ authorization });
    expect(key('Bearer abc')).toBe('abc');
    expect(key('bEaReR abc')).toBe('abc');
    expect(key('Bearer abc bearer def')).toBe('abc bearer def');
    expect(key('Token bearer abc')).toBe('Token bearer abc');
    expect(key('xbearer abc')).toBe('xbearer abc');
  });

  it('a key with "bearer " inside does not match the key without it', async () => {
    const h = harness();
    const t = target({ sharedSecret: 'abcdef' });
    expect((await h.pipeline.evaluate(post('{}', { Authorization: 'Bearer abcbearer def' }), t)).status).toBe(
      401,
    );
    expect((await h.pipeline.evaluate(post('{}', { Authorization: 'Bearer abcdef' }), t)).status).toBe(200);
  });

  it('keys of any length are compared (by digest) and refused when they differ', async () => {
    const h = harness();
    const t = target({ sharedSecret: 'S3cret' });
    for (const supplied of ['S', 'S3cre', 'S3creT', 'S3cret-and-more', 'x'.repeat(10_000)]) {
      expect((await h.pipeline.evaluate(post('{}', { 'X-Webhook-Key': supplied }), t)).status).toBe(401);
    }
  });
});

describe('12. refusals are generic; undecodable paths are 404', () => {
  it('the refusal body never names the reason', async () => {
    for (const [status, reason] of [
      [409, 'nonce_seen'],
      [409, 'skew_exceeded'],
      [401, 'digest_mismatch'],
    ] as const) {
      const response = rejectionResponse({ outcome: 'reject', status, reason, headers: {} } as never);
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: 'Webhook rejected.' });
    }
  });

  it('a malformed % escape in the path is a 404, not an empty 500', async () => {
    const receiver = { handle: async () => new Response('{}') };
    const server = createServer(createNodeWebhookListener(receiver, { basePath: '/hooks' }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const response = await fetch(`http://127.0.0.1:${port}/hooks/%E0%A4%A`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'Not found.' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('13. interoperability', () => {
  it.each([
    ['text/plain', 'ping'],
    [null, 'zen: keep it logically awesome'],
    ['application/octet-stream', 'hello'],
  ])('a signed %s body that is neither JSON nor a form is accepted as raw text', async (type, body) => {
    const h = harness();
    const headers: Record<string, string> = { ...signWebhook(scheme('GitHub'), 'gh', { body }) };
    if (type) headers['content-type'] = type;
    const decision = await h.pipeline.evaluate(post(body, headers), target(github));
    expect(decision).toMatchObject({ outcome: 'accept', delivery: { data: body } });
  });

  it('an unsigned non-JSON body is refused for its signature, not its format', async () => {
    const h = harness();
    const decision = await h.pipeline.evaluate(
      post('ping', { 'X-Hub-Signature-256': 'sha256=00' }),
      target(github),
    );
    expect(decision).toMatchObject({ status: 401, reason: 'digest_mismatch' });
  });

  it('declared JSON that does not parse is still a 400 after a valid signature', async () => {
    const h = harness();
    const body = '{"unterminated":';
    const headers = { 'content-type': 'application/json', ...signWebhook(scheme('GitHub'), 'gh', { body }) };
    expect(await h.pipeline.evaluate(post(body, headers), target(github))).toMatchObject({
      status: 400,
      reason: 'invalid_payload',
    });
  });

  it('Twilio: repeated fields are signed sorted by name, then by value', () => {
    const url = 'https://example.test/sms';
    const fields: [string, string][] = [
      ['To', '+15550000002'],
      ['Body', 'hi'],
      ['To', '+15550000001'],
    ];
    // Twilio's SDKs: URL, then name+value pairs sorted by name and, for equal names, by value.
    const signed = `${url}Bodyhi To+15550000001To+15550000002`.replace(' ', '');
    const digest = createHmac('sha1', 'tok').update(signed).digest('base64');
    const result = verify(
      scheme('Twilio'),
      'tok',
      new URLSearchParams(fields).toString(),
      { 'X-Twilio-Signature': digest },
      {
        absoluteUrl: url,
        formFields: fields,
        allowLegacySha1: true,
      },
    );
    expect(result.valid).toBe(true);
  });
});

describe('14. IP presets are narrow, dated and documented', () => {
  it('every preset has a source, a review date and a stated risk', () => {
    for (const name of PUBLISHER_PRESET_NAMES) {
      const info = publisherPresetInfo(name)!;
      expect(info.source, name).not.toBe('');
      expect(info.reviewed, name).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(info.risk, name).not.toBe('');
    }
  });

  it('no partner preset holds a block broader than a /16 (IPv4) or /29 (IPv6)', () => {
    for (const name of PUBLISHER_PRESET_NAMES.filter((n) => n !== 'private' && n !== 'loopback')) {
      for (const entry of publisherPresetInfo(name)!.cidrs) {
        const rule = parseIpRule(entry)!;
        expect(rule.kind).toBe('prefix');
        if (rule.kind !== 'prefix') continue;
        expect(rule.bits, `${name} ${entry}`).toBeGreaterThanOrEqual(rule.network.family === 4 ? 16 : 29);
      }
    }
  });

  it.each(['shopify', 'twilio', 'slack', 'square', 'mailgun'])(
    "the shared-cloud preset '%s' is gone, with a start-up error that says why",
    (name) => {
      const h = harness();
      expect(() => h.pipeline.compile({ ip: { presets: [name] } })).toThrow(
        new RegExp(`preset '${name}' was removed`),
      );
    },
  );

  it("'local' is loopback only, and using it without trusted proxies logs the proxy risk (4015)", () => {
    const h = harness();
    const local = new CidrMatcher(publisherPresetInfo('local')!.cidrs);
    expect(local.matches('10.0.0.5')).toBe(false);
    h.pipeline.compile({ ip: { presets: ['local'] } });
    expect(h.logs.map((l) => l.eventId)).toContain(4015);
    const behindProxy = harness({ trustedProxies: ['10.0.0.0/8'] });
    behindProxy.pipeline.compile({ ip: { presets: ['local'] } });
    expect(behindProxy.logs).toEqual([]);
  });
});

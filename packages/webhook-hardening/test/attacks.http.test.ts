/**
 * Attacks over real HTTP, one group per forgery, replay and abuse hole of issue 15 (items 1–8).
 * Each test plays the adversary against a `node:http` server on 127.0.0.1 and asserts the attack
 * fails; every one of them succeeded against the previous pipeline.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { signMailgun, signWebhook, TokenBucketRateLimiter } from '../src/index.js';
import { scheme } from './helpers.js';
import { startWebhookServer, webhookFlow } from './http-server.js';

type Server = Awaited<ReturnType<typeof startWebhookServer>>;
let server: Server | null = null;
const start = async (...args: Parameters<typeof startWebhookServer>) => {
  server = await startWebhookServer(...args);
  return server;
};
afterEach(async () => {
  await server?.close();
  server = null;
});

const now = () => Math.floor(Date.now() / 1000);
/** Floods send hundreds of real requests; allow for a busy, shared machine. */
const FLOOD_MS = 60_000;
const json = { 'content-type': 'application/json' };
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('1. Twilio JSON bodies are bound to the signed URL by bodySHA256', () => {
  const flow = webhookFlow('sms', {
    webhookSignatureScheme: 'Twilio',
    webhookHmacKey: 'twilio-token',
  });

  it('a captured (URL, signature) pair cannot carry another body', async () => {
    const s = await start([flow], { allowLegacySha1: true });
    const body = JSON.stringify({ MessageSid: 'SM1', Body: 'hello' });
    const url = `${s.url('sms')}?bodySHA256=${sha256Hex(body)}`;
    const headers = { ...json, ...signWebhook(scheme('Twilio'), 'twilio-token', { body, url }) };
    const post = (b: string) => fetch(url, { method: 'POST', body: b, headers });
    expect((await post(body)).status).toBe(200);
    const forged = JSON.stringify({ MessageSid: 'SM1', Body: 'wire the money' });
    expect((await post(forged)).status).toBe(401);
    expect(s.engine.calls).toHaveLength(1);
  });

  it('a JSON body under a URL without bodySHA256 is refused even when the URL signature is valid', async () => {
    const s = await start([flow], { allowLegacySha1: true });
    const url = s.url('sms');
    const body = JSON.stringify({ Body: 'anything' });
    const headers = { ...json, ...signWebhook(scheme('Twilio'), 'twilio-token', { body, url }) };
    expect((await fetch(url, { method: 'POST', body, headers })).status).toBe(401);
    expect(s.engine.calls).toHaveLength(0);
  });
});

describe('2. Signed timestamps are checked for freshness without any replay settings', () => {
  it.each([
    ['a year old', -365 * 86400],
    ['a year ahead', 365 * 86400],
  ])('Stripe: a delivery signed %s is refused', async (_, offset) => {
    const s = await start([
      webhookFlow('stripe', { webhookSignatureScheme: 'Stripe', webhookHmacKey: 'whsec' }),
    ]);
    const body = JSON.stringify({ id: 'evt_old' });
    const headers = {
      ...json,
      ...signWebhook(scheme('Stripe'), 'whsec', { body, timestamp: now() + offset }),
    };
    expect((await s.send('stripe', body, headers)).status).toBe(401);
    expect(s.engine.calls).toHaveLength(0);
  });

  it('Slack and Zoom: a stale signed request timestamp is refused', async () => {
    const s = await start([
      webhookFlow('slack', { webhookSignatureScheme: 'Slack', webhookHmacKey: 'slack' }),
      webhookFlow('zoom', { webhookSignatureScheme: 'Zoom', webhookHmacKey: 'zoom' }),
    ]);
    for (const name of ['Slack', 'Zoom']) {
      const body = '{"event":"x"}';
      const headers = {
        ...json,
        ...signWebhook(scheme(name), name.toLowerCase(), { body, timestamp: now() - 3600 }),
      };
      expect((await s.send(name.toLowerCase(), body, headers)).status).toBe(401);
    }
  });

  it('Mailgun: a stale signed timestamp in the body is refused', async () => {
    const s = await start([webhookFlow('mail', { webhookSignatureScheme: 'Mailgun', webhookHmacKey: 'mg' })]);
    const body = JSON.stringify({
      signature: signMailgun('mg', String(now() - 86400), 'tok-1'),
      'event-data': {},
    });
    expect((await s.send('mail', body, json)).status).toBe(401);
  });

  it('Linear: webhookTimestamp (ms) in the signed body older than a minute is refused', async () => {
    const s = await start([
      webhookFlow('linear', { webhookSignatureScheme: 'Linear', webhookHmacKey: 'lin' }),
    ]);
    const send = (ms: number) => {
      const body = JSON.stringify({ action: 'create', webhookTimestamp: ms });
      return s.send('linear', body, { ...json, ...signWebhook(scheme('Linear'), 'lin', { body }) });
    };
    expect((await send(Date.now())).status).toBe(200);
    expect((await send(Date.now() - 120_000)).status).toBe(401);
  });
});

describe('3. Nonces come only from authenticated data', () => {
  it('a signed Stripe delivery replayed with a fresh delivery-id header is refused', async () => {
    const s = await start(
      [
        webhookFlow('stripe', {
          webhookSignatureScheme: 'Stripe',
          webhookHmacKey: 'whsec',
          webhookNonceHeader: 'X-Delivery-Id',
        }),
      ],
      { replay: { toleranceSeconds: 300 } },
    );
    const body = JSON.stringify({ id: 'evt_1', amount: 100 });
    const signed = { ...json, ...signWebhook(scheme('Stripe'), 'whsec', { body, timestamp: now() }) };
    expect((await s.send('stripe', body, { ...signed, 'X-Delivery-Id': 'a' })).status).toBe(200);
    for (const id of ['b', 'c', 'd']) {
      expect((await s.send('stripe', body, { ...signed, 'X-Delivery-Id': id })).status).toBe(409);
    }
    expect(s.engine.calls).toHaveLength(1);
  });

  it('GitHub: a new X-GitHub-Delivery or an unsigned X-Webhook-Timestamp does not make a replay new', async () => {
    const s = await start(
      [
        webhookFlow('gh', {
          webhookSignatureScheme: 'GitHub',
          webhookHmacKey: 'gh',
          webhookNonceHeader: 'X-GitHub-Delivery',
          webhookReplayAllowMissingTimestamp: true,
        }),
      ],
      { replay: { toleranceSeconds: 300 } },
    );
    const body = JSON.stringify({ ref: 'main' });
    const signed = { ...json, ...signWebhook(scheme('GitHub'), 'gh', { body }) };
    const attempt = (ts: number) =>
      s.send('gh', body, { ...signed, 'X-GitHub-Delivery': randomUUID(), 'X-Webhook-Timestamp': String(ts) });
    expect((await attempt(now())).status).toBe(200);
    expect((await attempt(now() + 1)).status).toBe(409);
    expect((await attempt(now() + 2)).status).toBe(409);
    expect(s.engine.calls).toHaveLength(1);
  });

  it('GitHub: an unsigned timestamp header no longer stands in for freshness (start-up error)', async () => {
    await expect(
      startWebhookServer([webhookFlow('gh', { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh' })], {
        replay: { toleranceSeconds: 300 },
      }),
    ).rejects.toThrow(/signs no timestamp/);
  });

  it('Mailgun: a signature block reused with another (unsigned) body is refused by its token', async () => {
    const s = await start(
      [webhookFlow('mail', { webhookSignatureScheme: 'Mailgun', webhookHmacKey: 'mg' })],
      { replay: { toleranceSeconds: 300 } },
    );
    const signature = signMailgun('mg', String(now()), `tok-${randomUUID()}`);
    const body = (recipient: string) => JSON.stringify({ signature, 'event-data': { recipient } });
    expect((await s.send('mail', body('alice@example.test'), json)).status).toBe(200);
    expect((await s.send('mail', body('mallory@example.test'), json)).status).toBe(409);
    expect(s.engine.calls).toHaveLength(1);
  });
});

describe('4. Enforce is the default', () => {
  it('without a mode, a forged GitHub delivery is refused', async () => {
    const s = await start(
      [webhookFlow('gh', { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh' })],
      {},
    );
    const response = await s.send('gh', '{"ref":"main"}', {
      ...json,
      'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`,
    });
    expect(response.status).toBe(401);
    expect(s.engine.calls).toHaveLength(0);
  });

  it("'off' with security settings refuses to start", async () => {
    await expect(
      startWebhookServer([webhookFlow('gh', { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh' })], {
        mode: 'off',
      }),
    ).rejects.toThrow(/mode is 'off'/);
  });
});

describe('5. Cheap checks first, a body deadline, JSON parsed only after the signature', () => {
  const gh = (extra: Record<string, unknown> = {}) =>
    webhookFlow('gh', { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh', ...extra });

  it('a refused address is answered on its headers, without waiting for the body', async () => {
    const s = await start([gh({ webhookIpAllowList: '203.0.113.0/24' })]);
    const status = await s.stall('gh', { ...json, 'content-length': '1000000' }, '[[[[', 2000);
    expect(status).toBe(403);
  });

  it('a rate-limited caller is answered on its headers too', async () => {
    const s = await start([gh({ webhookRateLimitPermitsPerSecond: 0.001, webhookRateLimitBurstSize: 1 })]);
    const body = '{}';
    await s.send('gh', body, { ...json, ...signWebhook(scheme('GitHub'), 'gh', { body }) });
    expect(await s.stall('gh', { ...json, 'content-length': '1000000' }, '{', 2000)).toBe(429);
  });

  it('a slow upload is cut off at the body deadline with 408', async () => {
    const s = await start([gh()], { bodyReadTimeoutMs: 200 });
    expect(await s.stall('gh', { ...json, 'content-length': '1000' }, '{"a":', 3000)).toBe(408);
  });

  it('deeply nested JSON with a valid signature is a 400, not a run', async () => {
    const s = await start([gh()]);
    const body = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const response = await s.send('gh', body, { ...json, ...signWebhook(scheme('GitHub'), 'gh', { body }) });
    expect(response.status).toBe(400);
    expect(s.engine.calls).toHaveLength(0);
  });

  it('an unsigned body is refused for its signature before it is parsed', async () => {
    const s = await start([gh()]);
    const response = await s.send('gh', 'not json at all', {
      ...json,
      'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}`,
    });
    expect(response.status).toBe(401);
    const [row] = (await s.rejectionStore.query({})).items;
    expect(row?.reason).toBe('digest_mismatch');
  });
});

describe('6. Dead letters are capped per flow and reason, and expire', () => {
  it(
    'a flood of forged deliveries writes at most the cap',
    async () => {
      const s = await start([webhookFlow('gh', { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh' })], {
        dlq: { maxRowsPerWindow: 5, sampleEvery: 0 },
      });
      const forged = { ...json, 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` };
      for (let i = 0; i < 40; i++) expect((await s.send('gh', `{"i":${i}}`, forged)).status).toBe(401);
      expect((await s.rejectionStore.query({ take: 500 })).total).toBe(5);
    },
    FLOOD_MS,
  );

  it('rate-limited refusals keep no body', async () => {
    const s = await start([
      webhookFlow('open', { webhookRateLimitPermitsPerSecond: 0.001, webhookRateLimitBurstSize: 1 }),
    ]);
    await s.send('open', '{"first":true}', json);
    expect((await s.send('open', JSON.stringify({ pad: 'x'.repeat(3000) }), json)).status).toBe(429);
    const rows = (await s.rejectionStore.query({ includeAccepted: false })).items;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ reason: 'rate_limited', bodyTruncated: null });
  });

  it('rows older than the default retention (7 days) are purged', async () => {
    const s = await start([webhookFlow('gh', { webhookSignatureScheme: 'GitHub', webhookHmacKey: 'gh' })]);
    const old = {
      flowId: null,
      triggerKey: null,
      remoteIp: null,
      reason: 'digest_mismatch',
      statusCode: 401,
    };
    await s.rejectionStore.write({
      ...old,
      receivedAt: new Date(Date.now() - 8 * 86400_000),
      bodyBytes: 0,
      bodyTruncated: null,
      headersJson: null,
      scheme: null,
      processingMs: null,
      isAccepted: false,
    });
    await s.send('gh', '{}', { ...json, 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` });
    await new Promise((r) => setTimeout(r, 20)); // the purge runs in the background
    const rows = (await s.rejectionStore.query({})).items;
    expect(rows.map((r) => r.reason)).toEqual(['digest_mismatch']);
    expect(rows[0]!.receivedAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('7. X-Forwarded-For is honoured only from trusted proxies', () => {
  const guarded = () => webhookFlow('guarded', { webhookIpAllowList: '203.0.113.7' });

  it('a direct caller cannot claim an allowed address', async () => {
    const s = await start([guarded()], { trustedProxies: ['10.0.0.0/8'] });
    expect((await s.send('guarded', '{}', { ...json, 'X-Forwarded-For': '203.0.113.7' })).status).toBe(403);
  });

  it('behind a trusted proxy, a client-written left entry is ignored', async () => {
    const s = await start([guarded()], { trustedProxies: ['127.0.0.1'] });
    const spoofed = { ...json, 'X-Forwarded-For': '203.0.113.7, 198.51.100.2' };
    expect((await s.send('guarded', '{}', spoofed)).status).toBe(403);
    expect((await s.send('guarded', '{}', { ...json, 'X-Forwarded-For': '203.0.113.7' })).status).toBe(200);
    expect((await s.send('guarded', '{}', { ...json, 'X-Forwarded-For': 'garbage' })).status).toBe(403);
  });

  it('a forwarded depth without trusted proxies refuses to start', async () => {
    await expect(startWebhookServer([guarded()], { forwardedHeaderDepth: 1 })).rejects.toThrow(
      /trustedProxies/,
    );
  });
});

describe('8. The rate limiter keys IPv6 by /64 and holds a bounded number of keys', () => {
  it('rotating addresses within one /64 shares one bucket', async () => {
    const s = await start(
      [
        webhookFlow('open', {
          webhookRateLimitPermitsPerSecond: 0.001,
          webhookRateLimitBurstSize: 2,
          webhookRateLimitPerIp: true,
        }),
      ],
      { trustedProxies: ['127.0.0.1'] },
    );
    const from = (ip: string) => s.send('open', '{}', { ...json, 'X-Forwarded-For': ip });
    expect((await from('2001:db8:1:2::1')).status).toBe(200);
    expect((await from('2001:db8:1:2::2')).status).toBe(200);
    expect((await from('2001:db8:1:2:ffff:ffff:ffff:ffff')).status).toBe(429);
    expect((await from('2001:db8:1:3::1')).status).toBe(200); // another /64
  });

  it(
    'a flood of distinct addresses cannot grow the key map past its cap',
    async () => {
      const rateLimiter = new TokenBucketRateLimiter({ maxKeys: 50 });
      const s = await start(
        [webhookFlow('open', { webhookRateLimitPermitsPerSecond: 1, webhookRateLimitPerIp: true })],
        { trustedProxies: ['127.0.0.1'], rateLimiter },
      );
      for (let i = 0; i < 150; i++) {
        await s.send('open', '{}', { ...json, 'X-Forwarded-For': `198.51.${i >> 8}.${i & 255}` });
      }
      expect(rateLimiter.size).toBeLessThanOrEqual(50);
    },
    FLOOD_MS,
  );
});

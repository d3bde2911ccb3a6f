import { describe, expect, it } from 'vitest';
import {
  signWebhook,
  type VerificationContext,
  WebhookMetricName,
  type WebhookSecurityOptions,
  type WebhookTriggerSecurity,
} from '../src/index.js';
import { harness, T0 } from './harness.js';
import { FLOW_ID, post, scheme } from './helpers.js';

const target = (security: WebhookTriggerSecurity) => ({ flowId: FLOW_ID, triggerKey: 'webhook', security });
const github = (key = 'gh-secret'): WebhookTriggerSecurity => ({ signature: { scheme: 'GitHub', key } });
const signedGithub = (body: string, key = 'gh-secret', extra: Record<string, string> = {}) =>
  post(body, { ...signWebhook(scheme('GitHub'), key, { body }), ...extra });
const badlySigned = (body: string) => post(body, { 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` });

describe('enforcement modes', () => {
  it('Off: gates are skipped, an accepted row is written without a scheme', async () => {
    const h = harness({ mode: 'off', allowUnenforcedSecurity: true });
    const decision = await h.pipeline.evaluate(badlySigned('{}'), target(github()));
    expect(decision).toMatchObject({ outcome: 'accept', auditFailure: null });
    expect(h.logs.map((l) => l.eventId)).toEqual([4014]); // the start-up warning
    expect(await h.rows()).toMatchObject([{ isAccepted: true, scheme: null }]);
    expect(h.metrics.count(WebhookMetricName.received, { result: 'off' })).toBe(1);
  });

  it('Audit: a failing gate is recorded and logged, the delivery goes through, later gates do not run', async () => {
    const h = harness({ mode: 'audit' });
    const security = { ...github(), replay: { toleranceSeconds: 300, allowMissingTimestamp: true } };
    const request = badlySigned('{}');
    const decision = await h.pipeline.evaluate(request, target(security));
    expect(decision).toMatchObject({
      outcome: 'accept',
      status: 200,
      auditFailure: { status: 401, reason: 'digest_mismatch' },
    });
    expect(await h.rows()).toMatchObject([{ isAccepted: false, reason: 'digest_mismatch', statusCode: 401 }]);
    expect(h.logs.map((l) => l.eventId)).toEqual([4001]);
    expect(await h.replayStore.purgeExpired(new Date(8.64e15))).toBe(0); // no nonce was registered
    expect(h.metrics.count(WebhookMetricName.rejected, { reason: 'digest_mismatch' })).toBe(1);
  });

  it('Enforce: a bad signature is a 401 (the reason goes to the DLQ and metrics)', async () => {
    const h = harness();
    const decision = await h.pipeline.evaluate(badlySigned('{}'), target(github()));
    expect(decision).toMatchObject({ outcome: 'reject', status: 401, reason: 'digest_mismatch' });
    expect(h.metrics.count(WebhookMetricName.received, { result: 'rejected', scheme: 'GitHub' })).toBe(1);
  });

  it('Enforce: a valid delivery is accepted with the trigger data and filtered headers', async () => {
    const h = harness();
    const request = signedGithub('{"n":1}', 'gh-secret', { Cookie: 'c=1', 'X-Trace': 't' });
    const decision = await h.pipeline.evaluate(request, target(github()));
    expect(decision.outcome).toBe('accept');
    if (decision.outcome !== 'accept') return;
    expect(decision.delivery.data).toEqual({ n: 1 });
    expect(decision.delivery.headers).toMatchObject({ 'x-trace': 't' });
    expect(decision.delivery.headers).not.toHaveProperty('cookie');
    expect(h.metrics.count(WebhookMetricName.received, { result: 'accepted' })).toBe(1);
  });
});

describe('key rotation', () => {
  it('a digest over the previous key passes and logs 4010', async () => {
    const h = harness();
    const security = { signature: { scheme: 'GitHub', key: 'new', previousKey: 'old' } };
    const decision = await h.pipeline.evaluate(signedGithub('{}', 'old'), target(security));
    expect(decision.outcome).toBe('accept');
    expect(h.logs.map((l) => l.eventId)).toEqual([4010]);
  });
});

describe('body cap and payload', () => {
  it('refuses a declared Content-Length above the cap with 413, in every mode', async () => {
    const h = harness({ mode: 'off', maxBodyBytes: 10 });
    const decision = await h.pipeline.evaluate(post('{"too":"large"}'), target({}));
    expect(decision).toMatchObject({ status: 413, reason: 'payload_too_large' });
    expect(h.logs.map((l) => l.eventId)).toEqual([4004]);
  });

  it('stops reading a chunked body once it passes the cap', async () => {
    const h = harness({ maxBodyBytes: 64 });
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(40));
      },
    });
    const request = new Request('https://x.test/', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(await h.pipeline.evaluate(request, target({}))).toMatchObject({ status: 413 });
    expect(pulled).toBeLessThan(5);
  });

  it('refuses invalid declared JSON with 400; accepts an empty body as null and a form as fields', async () => {
    const h = harness();
    const json = { 'content-type': 'application/json' };
    expect(await h.pipeline.evaluate(post('not-json', json), target({}))).toMatchObject({
      status: 400,
      reason: 'invalid_payload',
    });
    const empty = await h.pipeline.evaluate(post(''), target({}));
    expect(empty).toMatchObject({ outcome: 'accept', delivery: { data: null } });
    const form = await h.pipeline.evaluate(
      post('a=1&b=2&a=3', { 'content-type': 'application/x-www-form-urlencoded' }),
      target({}),
    );
    expect(form).toMatchObject({ delivery: { data: { a: ['1', '3'], b: '2' } } });
  });
});

describe('shared key (legacy X-Webhook-Key)', () => {
  const security = { sharedSecret: 'S3cret-Key' };
  const cases: [string, Record<string, string>, number][] = [
    ['X-Webhook-Key', { 'X-Webhook-Key': 'S3cret-Key' }, 200],
    ['Bearer', { Authorization: 'Bearer S3cret-Key' }, 200],
    ['lower-case bearer', { Authorization: 'bearer S3cret-Key' }, 200],
    ['wrong key', { 'X-Webhook-Key': 'nope' }, 401],
    ['missing key', {}, 401],
    ['different case', { 'X-Webhook-Key': 's3cret-key' }, 401],
    ['prefix', { 'X-Webhook-Key': 'S3cret-Ke' }, 401],
    ['last byte differs', { 'X-Webhook-Key': 'S3cret-Kez' }, 401],
    ['same length', { 'X-Webhook-Key': 'S3cret-Kex' }, 401],
    ['empty', { 'X-Webhook-Key': '' }, 401],
  ];
  it.each(cases)('%s → %i (even in Off mode)', async (_, headers, status) => {
    const h = harness({ mode: 'off' }); // no gate settings: Off is allowed without the opt-in
    const decision = await h.pipeline.evaluate(post('{}', headers), target(security));
    expect(decision.status).toBe(status);
    if (status === 401) expect(decision).toMatchObject({ reason: 'shared_key_invalid' });
  });

  it('runs before the replay gate, so a caller without the key cannot burn a nonce', async () => {
    const h = harness();
    const t = target({
      sharedSecret: 'k',
      signature: { scheme: 'GitHub', key: 'gh-secret' },
      replay: { toleranceSeconds: 300, allowMissingTimestamp: true },
    });
    expect((await h.pipeline.evaluate(signedGithub('{}'), t)).status).toBe(401);
    expect(
      (await h.pipeline.evaluate(signedGithub('{}', 'gh-secret', { 'X-Webhook-Key': 'k' }), t)).status,
    ).toBe(200);
  });
});

describe('IP gate', () => {
  const ip = (allow: string[], deny: string[] = []) => target({ ip: { allow, deny } });

  it('allow-list miss and deny-list hit are 403', async () => {
    const h = harness();
    const from = (address: string | null, t = ip(['10.0.0.0/8'], ['10.6.6.6'])) =>
      h.pipeline.evaluate(post('{}'), t, { remoteAddress: address });
    expect((await from('10.1.1.1')).status).toBe(200);
    expect(await from('192.168.1.1')).toMatchObject({ status: 403, reason: 'allowlist_miss' });
    expect(await from('10.6.6.6')).toMatchObject({ status: 403, reason: 'denylist_hit' });
    expect(await from(null)).toMatchObject({ reason: 'allowlist_miss' });
    expect((await from('::ffff:10.1.1.1')).status).toBe(200);
    const { items } = await h.rejectionStore.query({ includeAccepted: false });
    expect(items[0]).toMatchObject({ remoteIp: null, scheme: null, statusCode: 403 });
  });

  it('presets join the allow list', async () => {
    const h = harness();
    const t = target({ ip: { presets: ['github'] } });
    expect((await h.pipeline.evaluate(post('{}'), t, { remoteAddress: '192.30.253.10' })).status).toBe(200);
    expect((await h.pipeline.evaluate(post('{}'), t, { remoteAddress: '8.8.8.8' })).status).toBe(403);
  });

  it('trusts X-Forwarded-For only from a trusted proxy, and only its right-most untrusted entry', async () => {
    const h = harness({ trustedProxies: ['10.0.0.0/8'] });
    const t = ip(['203.0.113.7']);
    // The client wrote the left entry; our one proxy appended the real address on the right.
    const spoofed = post('{}', { 'X-Forwarded-For': '203.0.113.7, 198.51.100.2' });
    expect((await h.pipeline.evaluate(spoofed, t, { remoteAddress: '10.0.0.1' })).status).toBe(403);
    const genuine = post('{}', { 'X-Forwarded-For': '203.0.113.7' });
    expect((await h.pipeline.evaluate(genuine, t, { remoteAddress: '10.0.0.1' })).status).toBe(200);
    // The same header from a peer that is not a trusted proxy is ignored.
    const direct = post('{}', { 'X-Forwarded-For': '203.0.113.7' });
    expect((await h.pipeline.evaluate(direct, t, { remoteAddress: '198.51.100.9' })).status).toBe(403);
  });
});

describe('DLQ rows, logs and metrics', () => {
  it('a rejection row keeps the first 4096 body bytes and the filtered headers', async () => {
    const h = harness();
    const body = JSON.stringify({ pad: 'x'.repeat(5000) });
    const request = post(body, {
      'X-Hub-Signature-256': 'sha256=00',
      Authorization: 'Bearer secret',
      Cookie: 'sid=1',
    });
    await h.pipeline.evaluate(request, target(github()), { remoteAddress: '127.0.0.1' });
    const [row] = await h.rows();
    expect(row).toMatchObject({
      flowId: FLOW_ID,
      triggerKey: 'webhook',
      remoteIp: '127.0.0.1',
      reason: 'digest_mismatch',
      statusCode: 401,
      bodyBytes: body.length,
      scheme: 'GitHub',
      isAccepted: false,
    });
    expect(row!.bodyTruncated).toHaveLength(4096);
    const headers = JSON.parse(row!.headersJson!);
    expect(headers).toHaveProperty('x-hub-signature-256', '[redacted]');
    expect(headers).not.toHaveProperty('authorization');
    expect(headers).not.toHaveProperty('cookie');
    expect(row!.receivedAt.getTime()).toBe(T0 * 1000);
  });

  it('a failing rejection store is logged (4008) and does not change the decision', async () => {
    const h = harness({
      rejectionStore: {
        write: async () => {
          throw new Error('disk full');
        },
        purgeOlderThan: async () => 0,
      } as never,
    });
    expect((await h.pipeline.evaluate(badlySigned('{}'), target(github()))).status).toBe(401);
    expect((await h.pipeline.evaluate(signedGithub('{}'), target(github()))).status).toBe(200);
    expect(h.logs.filter((l) => l.eventId === 4008)).toHaveLength(2);
  });

  it('records body size and processing time for every evaluation', async () => {
    const h = harness({ mode: 'off' });
    await h.pipeline.evaluate(post('{"a":1}'), target({}));
    const names = h.metrics.records.map((r) => r.name);
    expect(names).toEqual([
      WebhookMetricName.received,
      WebhookMetricName.bodyBytes,
      WebhookMetricName.processingMs,
    ]);
    expect(h.metrics.records[1]).toMatchObject({ value: 7, tags: { flow: FLOW_ID } });
  });

  it('recordAccepted: false keeps only rejections', async () => {
    const h = harness({ recordAccepted: false } satisfies Partial<WebhookSecurityOptions>);
    await h.pipeline.evaluate(post('{}'), target({}));
    expect(await h.rows()).toEqual([]);
  });
});

describe('bring-your-own verifier', () => {
  it('receives the raw body, headers, URL and key with spec null', async () => {
    const seen: VerificationContext[] = [];
    const h = harness({
      verifiers: {
        AcmeCorp: {
          verify: (ctx) => {
            seen.push(ctx);
            return ctx.headers['x-acme'] === 'ok'
              ? { valid: true, usedPreviousKey: false, timestamp: null }
              : { valid: false, reason: 'signature_invalid' };
          },
        },
      },
    });
    const t = target({ signature: { scheme: 'acmecorp', key: 'acme-key' } });
    const request = post('{"x":1}', { 'X-Acme': 'ok' }, 'https://example.test/');
    expect((await h.pipeline.evaluate(request, t)).status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ spec: null, key: 'acme-key', absoluteUrl: 'https://example.test/' });
    expect(Buffer.from(seen[0]!.body).toString()).toBe('{"x":1}');
    expect(await h.pipeline.evaluate(post('{}'), t)).toMatchObject({
      status: 401,
      reason: 'signature_invalid',
    });
  });

  it('built-in schemes still use the HMAC verifier when custom verifiers exist', async () => {
    let calls = 0;
    const h = harness({
      verifiers: {
        AcmeCorp: {
          verify: () => {
            calls++;
            return { valid: false, reason: 'signature_invalid' };
          },
        },
      },
    });
    expect((await h.pipeline.evaluate(signedGithub('{}'), target(github()))).status).toBe(200);
    expect(calls).toBe(0);
  });
});

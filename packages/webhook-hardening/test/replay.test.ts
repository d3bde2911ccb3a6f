import { describe, expect, it } from 'vitest';
import { defaultNonce, signWebhook, startReplayJanitor, type WebhookTriggerSecurity } from '../src/index.js';
import { harness, T0 } from './harness.js';
import { FLOW_ID, post, scheme } from './helpers.js';

const target = (security: WebhookTriggerSecurity) => ({ flowId: FLOW_ID, triggerKey: 'webhook', security });
const replayOnly = (toleranceSeconds: number, extra: Record<string, string> = {}) =>
  target({ replay: { toleranceSeconds, ...extra } });
const stamped = (ts: number, body = 'body-1', headers: Record<string, string> = {}) =>
  post(JSON.stringify(body), { 'X-Webhook-Timestamp': String(ts), ...headers });

describe('replay gate', () => {
  it('tolerance 0 turns it off', async () => {
    const h = harness();
    expect((await h.pipeline.evaluate(post('{}'), replayOnly(0))).status).toBe(200);
  });

  it('missing and non-integer timestamps are refused with 409', async () => {
    const h = harness();
    expect(await h.pipeline.evaluate(post('{}'), replayOnly(300))).toMatchObject({
      status: 409,
      reason: 'missing_timestamp',
    });
    const bad = post('{}', { 'X-Webhook-Timestamp': '1700000000.5' });
    expect(await h.pipeline.evaluate(bad, replayOnly(300))).toMatchObject({
      status: 409,
      reason: 'invalid_timestamp',
    });
  });

  it('refuses a skew beyond the tolerance and reports it', async () => {
    const h = harness();
    h.clock.set((T0 + 600) * 1000);
    expect(await h.pipeline.evaluate(stamped(T0), replayOnly(300))).toMatchObject({
      reason: 'skew_exceeded',
    });
    expect(h.logs.find((l) => l.eventId === 4002)?.fields).toMatchObject({ skewMs: 600_000 });
  });

  it('allowMissingTimestamp: a delivery id alone is deduplicated (GitHub sends no timestamp)', async () => {
    const h = harness();
    const t = target({
      replay: { toleranceSeconds: 300, nonceHeader: 'X-GitHub-Delivery', allowMissingTimestamp: true },
    });
    const delivery = (id: string) => post('{}', { 'X-GitHub-Delivery': id });
    expect((await h.pipeline.evaluate(delivery('d-1'), t)).status).toBe(200);
    expect(await h.pipeline.evaluate(delivery('d-1'), t)).toMatchObject({
      status: 409,
      reason: 'nonce_seen',
    });
    expect((await h.pipeline.evaluate(delivery('d-2'), t)).status).toBe(200);
    expect(await h.pipeline.evaluate(post('{}'), t)).toMatchObject({ reason: 'missing_timestamp' });
    // Remembered for two tolerances from receipt.
    expect(await h.replayStore.purgeExpired(new Date((T0 + 599) * 1000))).toBe(0);
    expect(await h.replayStore.purgeExpired(new Date((T0 + 600) * 1000))).toBe(2);
  });

  it('a skew of exactly the tolerance passes, as does a future timestamp within it', async () => {
    const h = harness();
    expect((await h.pipeline.evaluate(stamped(T0 - 300), replayOnly(300))).status).toBe(200);
    expect((await h.pipeline.evaluate(stamped(T0 + 60), replayOnly(300))).status).toBe(200);
  });

  it('the same delivery twice: the second is nonce_seen', async () => {
    const h = harness();
    expect((await h.pipeline.evaluate(stamped(T0), replayOnly(300))).status).toBe(200);
    expect(await h.pipeline.evaluate(stamped(T0), replayOnly(300))).toMatchObject({
      status: 409,
      reason: 'nonce_seen',
    });
  });

  it('with a nonce header, different delivery ids and an identical body are both fresh', async () => {
    const h = harness();
    const t = replayOnly(300, { nonceHeader: 'X-Webhook-Delivery-Id' });
    const a = await h.pipeline.evaluate(stamped(T0, 'same', { 'X-Webhook-Delivery-Id': 'a' }), t);
    const b = await h.pipeline.evaluate(stamped(T0, 'same', { 'X-Webhook-Delivery-Id': 'b' }), t);
    const again = await h.pipeline.evaluate(stamped(T0, 'other', { 'X-Webhook-Delivery-Id': 'a' }), t);
    expect([a.status, b.status, again.status]).toEqual([200, 200, 409]);
  });

  it('nonces expire two tolerances after the publisher timestamp', async () => {
    const h = harness();
    await h.pipeline.evaluate(stamped(T0), replayOnly(60));
    expect(await h.replayStore.purgeExpired(new Date((T0 + 119) * 1000))).toBe(0);
    expect(await h.replayStore.purgeExpired(new Date((T0 + 200) * 1000))).toBe(1);
  });

  it('the default nonce is upper-case hex SHA-256 of timestamp then body', () => {
    expect(defaultNonce('1700000000', Buffer.from('body-1'))).toBe(
      'E570AF50819BF37B47EC46AF7F9D540D13FA189996A540C8EA8D90A0827A43BE',
    );
  });

  it('concurrent duplicates: exactly one is accepted', async () => {
    const h = harness();
    const decisions = await Promise.all(
      Array.from({ length: 25 }, () => h.pipeline.evaluate(stamped(T0, 'dup'), replayOnly(300))),
    );
    expect(decisions.filter((d) => d.outcome === 'accept')).toHaveLength(1);
    expect(decisions.filter((d) => d.outcome === 'reject' && d.reason === 'nonce_seen')).toHaveLength(24);
  });

  it('Stripe: the signed t= timestamp feeds the replay gate (no extra header needed)', async () => {
    const h = harness();
    const body = '{"id":"evt_1"}';
    const headers = signWebhook(scheme('Stripe'), 'whsec', { body, timestamp: T0 });
    const t = target({ signature: { scheme: 'stripe', key: 'whsec' }, replay: { toleranceSeconds: 300 } });
    expect((await h.pipeline.evaluate(post(body, headers), t)).status).toBe(200);
    expect(await h.pipeline.evaluate(post(body, headers), t)).toMatchObject({
      status: 409,
      reason: 'nonce_seen',
    });
    h.clock.advance(3600_000);
    expect(await h.pipeline.evaluate(post(body, headers), t)).toMatchObject({ reason: 'skew_exceeded' });
  });

  it('a signed timestamp wins over a spoofable header', async () => {
    const h = harness();
    const body = '{"id":"evt_2"}';
    const headers = signWebhook(scheme('Stripe'), 'whsec', { body, timestamp: T0 - 3600 });
    const t = target({ signature: { scheme: 'Stripe', key: 'whsec' }, replay: { toleranceSeconds: 300 } });
    const decision = await h.pipeline.evaluate(
      post(body, { ...headers, 'X-Webhook-Timestamp': String(T0) }),
      t,
    );
    expect(decision).toMatchObject({ reason: 'skew_exceeded' });
  });

  it('fails closed with 503 when the replay store throws', async () => {
    const h = harness({
      replayStore: {
        tryRegister: async () => {
          throw new Error('db down');
        },
        purgeExpired: async () => 0,
      },
    });
    const decision = await h.pipeline.evaluate(stamped(T0), replayOnly(300));
    expect(decision).toMatchObject({ status: 503, reason: 'replay_store_unavailable' });
    expect(h.logs.find((l) => l.eventId === 4009)?.error).toBeInstanceOf(Error);
  });
});

describe('replay janitor', () => {
  it('purges expired nonces and stops cleanly', async () => {
    const h = harness();
    await h.replayStore.tryRegister(FLOW_ID, 'webhook', 'n1', new Date((T0 - 1) * 1000));
    await h.replayStore.tryRegister(FLOW_ID, 'webhook', 'n2', new Date((T0 + 100) * 1000));
    const janitor = startReplayJanitor({ store: h.replayStore, clock: h.clock, intervalMs: 60_000 });
    expect(await janitor.runOnce()).toBe(1);
    await janitor.stop();
    await janitor.stop();
  });

  it('a failing purge is logged, not thrown', async () => {
    const logs: number[] = [];
    const janitor = startReplayJanitor({
      store: {
        tryRegister: async () => true,
        purgeExpired: async () => {
          throw new Error('boom');
        },
      },
      logger: { log: (e) => logs.push(e.eventId) },
    });
    expect(await janitor.runOnce()).toBe(0);
    expect(logs).toEqual([4009]);
    await janitor.stop();
  });

  it('rejects a non-positive interval and a missing store', () => {
    const h = harness();
    expect(() => startReplayJanitor({ store: h.replayStore, intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => startReplayJanitor({ store: null as never })).toThrow(/store/);
  });
});

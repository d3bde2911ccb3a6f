import { describe, expect, it } from 'vitest';
import { defaultNonce, signWebhook, startReplayJanitor, type WebhookTriggerSecurity } from '../src/index.js';
import { harness, T0 } from './harness.js';
import { FLOW_ID, post, scheme } from './helpers.js';

const target = (security: WebhookTriggerSecurity) => ({ flowId: FLOW_ID, triggerKey: 'webhook', security });
const stripe = (toleranceSeconds: number, extra: Record<string, unknown> = {}) =>
  target({ signature: { scheme: 'Stripe', key: 'whsec' }, replay: { toleranceSeconds, ...extra } });
const github = (extra: Record<string, unknown> = {}) =>
  target({
    signature: { scheme: 'GitHub', key: 'gh' },
    replay: { toleranceSeconds: 300, allowMissingTimestamp: true, ...extra },
  });
/** A Stripe delivery signed at `ts`. */
const stamped = (ts: number, data = 'body-1', headers: Record<string, string> = {}) => {
  const body = JSON.stringify(data);
  return post(body, { ...signWebhook(scheme('Stripe'), 'whsec', { body, timestamp: ts }), ...headers });
};
/** A GitHub delivery (no timestamp is signed). */
const pushed = (data = 'push-1', headers: Record<string, string> = {}) => {
  const body = JSON.stringify(data);
  return post(body, { ...signWebhook(scheme('GitHub'), 'gh', { body }), ...headers });
};

describe('replay gate', () => {
  it('tolerance 0 turns it off', async () => {
    const h = harness();
    expect((await h.pipeline.evaluate(stamped(T0), stripe(0))).status).toBe(200);
    expect((await h.pipeline.evaluate(stamped(T0), stripe(0))).status).toBe(200);
  });

  it('refuses a signed timestamp beyond the tolerance and reports the skew', async () => {
    const h = harness();
    h.clock.set((T0 + 200) * 1000);
    expect(await h.pipeline.evaluate(stamped(T0), stripe(100))).toMatchObject({
      status: 409,
      reason: 'skew_exceeded',
    });
    expect(h.logs.find((l) => l.eventId === 4002)?.fields).toMatchObject({ skewMs: 200_000 });
  });

  it('a skew of exactly the tolerance passes, as does a future timestamp within it', async () => {
    const h = harness();
    expect((await h.pipeline.evaluate(stamped(T0 - 300), stripe(300))).status).toBe(200);
    expect((await h.pipeline.evaluate(stamped(T0 + 60), stripe(300))).status).toBe(200);
  });

  it('the same delivery twice: the second is nonce_seen', async () => {
    const h = harness();
    expect((await h.pipeline.evaluate(stamped(T0), stripe(300))).status).toBe(200);
    expect(await h.pipeline.evaluate(stamped(T0), stripe(300))).toMatchObject({
      status: 409,
      reason: 'nonce_seen',
    });
  });

  it('a changing delivery-id header does not make a replayed body new (the id is only added)', async () => {
    const h = harness();
    const t = stripe(300, { nonceHeader: 'X-Webhook-Delivery-Id' });
    const a = await h.pipeline.evaluate(stamped(T0, 'same', { 'X-Webhook-Delivery-Id': 'a' }), t);
    const b = await h.pipeline.evaluate(stamped(T0, 'same', { 'X-Webhook-Delivery-Id': 'b' }), t);
    const reusedId = await h.pipeline.evaluate(stamped(T0, 'other', { 'X-Webhook-Delivery-Id': 'a' }), t);
    const fresh = await h.pipeline.evaluate(stamped(T0, 'third', { 'X-Webhook-Delivery-Id': 'c' }), t);
    expect([a.status, b.status, reusedId.status, fresh.status]).toEqual([200, 409, 409, 200]);
  });

  it('GitHub (no signed timestamp): the signed body is the nonce, an unsigned timestamp is ignored', async () => {
    const h = harness();
    const t = github({ nonceHeader: 'X-GitHub-Delivery' });
    expect((await h.pipeline.evaluate(pushed('p', { 'X-GitHub-Delivery': 'd-1' }), t)).status).toBe(200);
    // A new delivery id or a fresh-looking timestamp header does not make the same body new.
    const replayed = pushed('p', { 'X-GitHub-Delivery': 'd-2', 'X-Webhook-Timestamp': String(T0) });
    expect(await h.pipeline.evaluate(replayed, t)).toMatchObject({ status: 409, reason: 'nonce_seen' });
    expect((await h.pipeline.evaluate(pushed('q', { 'X-GitHub-Delivery': 'd-3' }), t)).status).toBe(200);
    // Remembered for two tolerances from receipt (the documented limit of unsigned-time dialects).
    expect(await h.replayStore.purgeExpired(new Date((T0 + 599) * 1000))).toBe(0);
    expect(await h.replayStore.purgeExpired(new Date((T0 + 600) * 1000))).toBe(4);
  });

  it('nonces outlive both the tolerance and the freshness window', async () => {
    const h = harness();
    await h.pipeline.evaluate(stamped(T0), stripe(60));
    // Stripe's freshness window is 300 s, so the nonce must survive 2 × 300 s.
    expect(await h.replayStore.purgeExpired(new Date((T0 + 599) * 1000))).toBe(0);
    expect(await h.replayStore.purgeExpired(new Date((T0 + 600) * 1000))).toBe(1);
  });

  it('the default nonce of bring-your-own verifiers is upper-case hex SHA-256 of timestamp then body', () => {
    expect(defaultNonce('1700000000', Buffer.from('body-1'))).toBe(
      'E570AF50819BF37B47EC46AF7F9D540D13FA189996A540C8EA8D90A0827A43BE',
    );
  });

  it('concurrent duplicates: exactly one is accepted', async () => {
    const h = harness();
    const decisions = await Promise.all(
      Array.from({ length: 25 }, () => h.pipeline.evaluate(stamped(T0, 'dup'), stripe(300))),
    );
    expect(decisions.filter((d) => d.outcome === 'accept')).toHaveLength(1);
    expect(decisions.filter((d) => d.outcome === 'reject' && d.reason === 'nonce_seen')).toHaveLength(24);
  });

  it('Stripe without replay settings: a stale delivery is still refused by the verifier', async () => {
    const h = harness();
    const t = target({ signature: { scheme: 'Stripe', key: 'whsec' } });
    h.clock.advance(3600_000);
    expect(await h.pipeline.evaluate(stamped(T0), t)).toMatchObject({ status: 401, reason: 'skew_exceeded' });
  });

  it('a signed timestamp wins over a spoofable header', async () => {
    const h = harness();
    const decision = await h.pipeline.evaluate(
      stamped(T0 - 3600, 'x', { 'X-Webhook-Timestamp': String(T0) }),
      stripe(300),
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
    const decision = await h.pipeline.evaluate(stamped(T0), stripe(300));
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

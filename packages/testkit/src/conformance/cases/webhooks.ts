import type { WebhookRejectionInput } from '@floworch/core';
import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { countTrue, fulfilled, pick, race, T0, uuid } from '../fixtures.js';

/** A rejection row with defaults; `receivedAt` is T0 unless given. */
function rejection(fields: Partial<WebhookRejectionInput> = {}): WebhookRejectionInput {
  return {
    flowId: null,
    triggerKey: 'orders',
    receivedAt: new Date(T0),
    remoteIp: '10.0.0.1',
    reason: 'invalid_signature',
    statusCode: 401,
    bodyBytes: 12,
    bodyTruncated: '{"id":1}',
    headersJson: '{"content-type":"application/json"}',
    scheme: 'hmac-sha256',
    processingMs: 3,
    isAccepted: false,
    ...fields,
  };
}

/** Webhook replay nonces and the rejection log. */
export const webhookCases: CaseGroup[] = [
  {
    name: 'webhook-replay',
    cases: [
      {
        id: 'webhook-replay.first-wins',
        title: 'tryRegister: true the first time, false for the same (flow, trigger, nonce)',
        requires: ['webhookReplay'],
        run: async ({ storage }) => {
          const replay = need(storage.webhookReplay, 'webhookReplay');
          const flowId = uuid();
          const expires = new Date(T0 + 300_000);
          expect(await replay.tryRegister(flowId, 'orders', 'n-1', expires)).toBe(true);
          expect(await replay.tryRegister(flowId, 'orders', 'n-1', expires)).toBe(false);
          expect(await replay.tryRegister(flowId.toUpperCase(), 'orders', 'n-1', expires)).toBe(false);
        },
      },
      {
        id: 'webhook-replay.scoped',
        title: 'the same nonce under another flow or trigger is new; nonces are case-sensitive',
        requires: ['webhookReplay'],
        run: async ({ storage }) => {
          const replay = need(storage.webhookReplay, 'webhookReplay');
          const flowId = uuid();
          const expires = new Date(T0 + 300_000);
          await replay.tryRegister(flowId, 'orders', 'n-1', expires);
          expect(await replay.tryRegister(uuid(), 'orders', 'n-1', expires)).toBe(true);
          expect(await replay.tryRegister(flowId, 'refunds', 'n-1', expires)).toBe(true);
          expect(await replay.tryRegister(flowId, 'orders', 'N-1', expires)).toBe(true);
        },
      },
      {
        id: 'race.webhook-replay.one-winner',
        title: 'N concurrent registrations of one nonce across connections: exactly one true, no errors',
        requires: ['webhookReplay'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const flowId = uuid();
          const expires = new Date(T0 + 300_000);
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () =>
                  need(pick(stores, i).webhookReplay, 'webhookReplay').tryRegister(
                    flowId,
                    'orders',
                    'nonce',
                    expires,
                  ),
              ),
            ),
          );
          expect(countTrue(results)).toBe(1);
        },
      },
      {
        id: 'webhook-replay.expired-unpurged-still-replay',
        title: 'an expired but unpurged nonce still counts as a replay',
        requires: ['webhookReplay'],
        run: async ({ storage, clock }) => {
          const replay = need(storage.webhookReplay, 'webhookReplay');
          const flowId = uuid();
          await replay.tryRegister(flowId, 'orders', 'n', new Date(T0 + 1_000));
          clock.advance(10_000);
          expect(await replay.tryRegister(flowId, 'orders', 'n', new Date(T0 + 20_000))).toBe(false);
        },
      },
      {
        id: 'webhook-replay.purge-expired',
        title: 'purgeExpired(now) deletes expiresAt <= now, keeps later ones, returns the count',
        requires: ['webhookReplay'],
        run: async ({ storage, clock }) => {
          const replay = need(storage.webhookReplay, 'webhookReplay');
          const flowId = uuid();
          await replay.tryRegister(flowId, 't', 'past', new Date(T0 - 1));
          await replay.tryRegister(flowId, 't', 'now', new Date(T0));
          await replay.tryRegister(flowId, 't', 'later', new Date(T0 + 1));
          expect(await replay.purgeExpired(new Date(T0))).toBe(2);
          expect(await replay.tryRegister(flowId, 't', 'past', new Date(T0 + 5))).toBe(true);
          expect(await replay.tryRegister(flowId, 't', 'later', new Date(T0 + 5))).toBe(false);
          clock.advance(1);
          // Without an argument the store's clock decides.
          expect(await replay.purgeExpired()).toBe(1);
        },
      },
    ],
  },
  {
    name: 'webhook-rejections',
    cases: [
      {
        id: 'webhook-rejections.ids-newest-first',
        title: 'write assigns increasing ids > 0 and keeps every field; queryRecent is newest first',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          const flowId = uuid();
          const a = await log.write(rejection({ flowId }));
          const b = await log.write(rejection({ reason: 'rate_limited', statusCode: 429 }));
          expect(a.id).toBeGreaterThan(0);
          expect(b.id).toBeGreaterThan(a.id);
          const recent = await log.queryRecent(null, null, true, 0, 10);
          expect(recent.map((r) => r.id)).toEqual([b.id, a.id]);
          expect(recent[1]).toEqual({ ...rejection({ flowId }), id: a.id });
        },
      },
      {
        id: 'webhook-rejections.recent-filters',
        title: 'queryRecent filters by flow, by reason ignoring case, and drops accepted rows on request',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          const flowA = uuid();
          await log.write(rejection({ flowId: flowA }));
          await log.write(rejection({ flowId: flowA, reason: 'rate_limited' }));
          await log.write(rejection({ flowId: uuid() }));
          await log.write(rejection({ flowId: flowA, reason: '', isAccepted: true, statusCode: 202 }));
          expect(await log.queryRecent(flowA, null, true, 0, 50)).toHaveLength(3);
          expect(await log.queryRecent(flowA, null, false, 0, 50)).toHaveLength(2);
          expect(await log.queryRecent(null, 'INVALID_Signature', true, 0, 50)).toHaveLength(2);
          expect(await log.queryRecent(flowA.toUpperCase(), 'invalid_signature', false, 0, 50)).toHaveLength(
            1,
          );
        },
      },
      {
        id: 'webhook-rejections.page-clamps',
        title: 'paging clamps: skip<0 → 0, take ≤ 0 → 50, take > 500 → 500',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          for (let i = 0; i < 520; i++) await log.write(rejection({ bodyBytes: i }));
          expect(await log.queryRecent(null, null, true, -5, 0)).toHaveLength(50);
          expect(await log.queryRecent(null, null, true, 0, 10_000)).toHaveLength(500);
          const page = await log.query({ skip: -1, take: -1 });
          expect(page.items).toHaveLength(50);
          expect(page.items[0]!.bodyBytes).toBe(519);
          expect((await log.query({ take: 501 })).items).toHaveLength(500);
        },
      },
      {
        id: 'webhook-rejections.query-total-before-paging',
        title: 'query reports the total before paging and pages the items',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          for (let i = 0; i < 7; i++) await log.write(rejection({ bodyBytes: i }));
          const page = await log.query({ skip: 2, take: 3 });
          expect(page.total).toBe(7);
          expect(page.items.map((r) => r.bodyBytes)).toEqual([4, 3, 2]);
        },
      },
      {
        id: 'webhook-rejections.include-flags',
        title: 'includeRejected=false gives accepted rows only; both false gives nothing',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          await log.write(rejection());
          await log.write(rejection({ reason: '', isAccepted: true, statusCode: 202 }));
          const accepted = await log.query({ includeRejected: false });
          expect(accepted.total).toBe(1);
          expect(accepted.items[0]!.isAccepted).toBe(true);
          expect(await log.query({ includeRejected: false, includeAccepted: false })).toEqual({
            items: [],
            total: 0,
          });
        },
      },
      {
        id: 'webhook-rejections.search',
        title:
          'search: case-insensitive substring of reason, trigger or IP; nulls never match; blank ignored; % and _ literal',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          await log.write(
            rejection({ reason: 'invalid_signature', triggerKey: 'Orders', remoteIp: '10.0.0.1' }),
          );
          await log.write(rejection({ reason: 'ip_denied', triggerKey: null, remoteIp: '192.168.1.20' }));
          await log.write(rejection({ reason: 'rate_limited', triggerKey: '100%_done', remoteIp: null }));
          const total = async (search: string) => (await log.query({ search })).total;
          expect(await total('SIGNATURE')).toBe(1);
          expect(await total('orders')).toBe(1);
          expect(await total('192.168')).toBe(1);
          expect(await total('   ')).toBe(3);
          expect(await total('%')).toBe(1);
          expect(await total('_d')).toBe(2); // ip_denied, 100%_done
          expect(await total('0%_')).toBe(1);
          expect(await total('missing')).toBe(0);
        },
      },
      {
        id: 'webhook-rejections.filters-and',
        title: 'flow, reason, search and include flags combine with AND',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          const flowA = uuid();
          await log.write(rejection({ flowId: flowA, reason: 'invalid_signature', remoteIp: '1.1.1.1' }));
          await log.write(rejection({ flowId: flowA, reason: 'invalid_signature', remoteIp: '2.2.2.2' }));
          await log.write(rejection({ flowId: flowA, reason: 'rate_limited', remoteIp: '1.1.1.1' }));
          await log.write(rejection({ flowId: uuid(), reason: 'invalid_signature', remoteIp: '1.1.1.1' }));
          const page = await log.query({
            flowId: flowA,
            reason: 'invalid_signature',
            search: '1.1',
            includeAccepted: false,
          });
          expect(page.total).toBe(1);
          expect(page.items[0]!.remoteIp).toBe('1.1.1.1');
        },
      },
      {
        id: 'webhook-rejections.counts-by-reason',
        title:
          'countsByReason counts rejected rows with a reason inside the window, keyed case-insensitively',
        requires: ['webhookRejections'],
        run: async ({ storage, clock }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          await log.write(rejection({ reason: 'rate_limited', receivedAt: new Date(T0 - 120_000) }));
          await log.write(rejection({ reason: 'Rate_Limited', receivedAt: new Date(T0 - 10_000) }));
          await log.write(rejection({ reason: 'rate_limited', receivedAt: new Date(T0 - 1) }));
          await log.write(rejection({ reason: 'invalid_signature', receivedAt: new Date(T0 - 5) }));
          await log.write(rejection({ reason: '', isAccepted: true, receivedAt: new Date(T0 - 5) }));
          await log.write(rejection({ reason: 'odd', isAccepted: true, receivedAt: new Date(T0 - 5) }));
          expect(await log.countsByReason(60_000)).toEqual({ rate_limited: 2, invalid_signature: 1 });
          clock.advance(3_600_000);
          expect(await log.countsByReason(60_000)).toEqual({});
        },
      },
      {
        id: 'webhook-rejections.filters-trimmed-and-window-edge',
        title:
          'query reason and search are trimmed; countsByReason includes a row received exactly windowMs ago',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          await log.write(rejection({ reason: 'rate_limited', receivedAt: new Date(T0 - 60_000) }));
          await log.write(rejection({ reason: 'invalid_signature', receivedAt: new Date(T0 - 60_001) }));
          expect((await log.query({ reason: '  Rate_Limited ' })).items.map((r) => r.reason)).toEqual([
            'rate_limited',
          ]);
          expect((await log.query({ search: '  rate_ ' })).total).toBe(1);
          expect(await log.countsByReason(60_000)).toEqual({ rate_limited: 1 });
        },
      },
      {
        id: 'webhook-rejections.reason-truncated',
        title: 'reasons longer than 64 characters are stored truncated to 64',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          const stored = await log.write(rejection({ reason: 'x'.repeat(100) }));
          expect(stored.reason).toBe('x'.repeat(64));
          expect((await log.queryRecent(null, null, true, 0, 1))[0]!.reason).toBe('x'.repeat(64));
        },
      },
      {
        id: 'webhook-rejections.purge-older-than',
        title: 'purgeOlderThan deletes rows received strictly before the cutoff and returns the count',
        requires: ['webhookRejections'],
        run: async ({ storage }) => {
          const log = need(storage.webhookRejections, 'webhookRejections');
          await log.write(rejection({ receivedAt: new Date(T0 - 2) }));
          await log.write(rejection({ receivedAt: new Date(T0 - 1) }));
          await log.write(rejection({ receivedAt: new Date(T0) }));
          expect(await log.purgeOlderThan(new Date(T0))).toBe(2);
          expect((await log.query({})).total).toBe(1);
        },
      },
    ],
  },
];

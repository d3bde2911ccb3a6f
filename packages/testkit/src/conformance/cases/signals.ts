import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { fulfilled, pick, race, T0, uuid } from '../fixtures.js';

/** Signal waiters and delivery. */
export const signalCases: CaseGroup[] = [
  {
    name: 'signals',
    cases: [
      {
        id: 'signals.register-get',
        title: 'registerWaiter then getWaiter: fields, createdAt = now, not delivered',
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'approve', 'manager-approval', new Date(T0 + 3_600_000));
          const waiter = await signals.getWaiter(runId, 'approve');
          expect(waiter).toMatchObject({
            runId,
            stepKey: 'approve',
            signalName: 'manager-approval',
            deliveredAt: null,
            payloadJson: null,
          });
          expect(waiter!.createdAt.getTime()).toBe(T0);
          expect(waiter!.expiresAt!.getTime()).toBe(T0 + 3_600_000);
        },
      },
      {
        id: 'signals.reregister-keeps-created-and-delivery',
        title: 'registering the same (run, step) again updates name and expiry, keeps createdAt and delivery',
        requires: ['signals'],
        run: async ({ storage, clock }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'wait', 'first', null);
          expect((await signals.deliverSignal(runId, 'first', '{"v":1}')).status).toBe('Delivered');
          clock.advance(5_000);
          await signals.registerWaiter(runId, 'wait', 'second', new Date(T0 + 99));
          const waiter = await signals.getWaiter(runId, 'wait');
          expect(waiter).toMatchObject({ signalName: 'second', payloadJson: '{"v":1}' });
          expect(waiter!.createdAt.getTime()).toBe(T0);
          expect(waiter!.deliveredAt!.getTime()).toBe(T0);
          expect(waiter!.expiresAt!.getTime()).toBe(T0 + 99);
        },
      },
      {
        id: 'signals.deliver-stores-payload',
        title: 'deliver returns Delivered with step key and time; payload stored verbatim',
        requires: ['signals'],
        run: async ({ storage, clock }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'approve', 'ok', null);
          clock.advance(250);
          const payload = '{ "Approved" : true,  "by":"Ünal" }';
          const result = await signals.deliverSignal(runId, 'ok', payload);
          expect(result.status).toBe('Delivered');
          expect(result.stepKey).toBe('approve');
          expect(result.deliveredAt!.getTime()).toBe(T0 + 250);
          const waiter = await signals.getWaiter(runId, 'approve');
          expect(waiter!.payloadJson).toBe(payload);
          expect(waiter!.deliveredAt!.getTime()).toBe(T0 + 250);
        },
      },
      {
        id: 'signals.second-deliver-already-delivered',
        title: 'a second delivery reports AlreadyDelivered with the first time; the payload is unchanged',
        requires: ['signals'],
        run: async ({ storage, clock }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'approve', 'ok', null);
          await signals.deliverSignal(runId, 'ok', '"first"');
          clock.advance(1_000);
          const again = await signals.deliverSignal(runId, 'ok', '"second"');
          expect(again.status).toBe('AlreadyDelivered');
          expect(again.stepKey).toBe('approve');
          expect(again.deliveredAt!.getTime()).toBe(T0);
          expect((await signals.getWaiter(runId, 'approve'))!.payloadJson).toBe('"first"');
        },
      },
      {
        id: 'signals.not-found',
        title: 'no waiter with that name in that run: NotFound with null fields; other runs never match',
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'approve', 'ok', null);
          expect(await signals.deliverSignal(uuid(), 'ok', '1')).toEqual({
            status: 'NotFound',
            stepKey: null,
            deliveredAt: null,
          });
          expect((await signals.deliverSignal(runId, 'other', '1')).status).toBe('NotFound');
          expect((await signals.getWaiter(runId, 'approve'))!.deliveredAt).toBeNull();
        },
      },
      {
        id: 'race.signals.deliver-exactly-once',
        title:
          'N concurrent deliveries to one waiter across connections: one Delivered, the rest AlreadyDelivered',
        requires: ['signals'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const runId = uuid();
          await need(stores[0]!.signals, 'signals').registerWaiter(runId, 'approve', 'ok', null);
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () =>
                  need(pick(stores, i).signals, 'signals').deliverSignal(runId, 'ok', `{"caller":${i}}`),
              ),
            ),
          );
          expect(results.filter((r) => r.status === 'Delivered')).toHaveLength(1);
          expect(results.filter((r) => r.status === 'AlreadyDelivered')).toHaveLength(raceWidth - 1);
          const winner = results.findIndex((r) => r.status === 'Delivered');
          const waiter = await need(stores[0]!.signals, 'signals').getWaiter(runId, 'approve');
          expect(waiter!.payloadJson).toBe(`{"caller":${winner}}`);
        },
      },
      {
        id: 'signals.names-route-to-own-waiter',
        title: 'two waiters with different names in one run each receive only their own signal',
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'a', 'alpha', null);
          await signals.registerWaiter(runId, 'b', 'beta', null);
          expect((await signals.deliverSignal(runId, 'beta', '"B"')).stepKey).toBe('b');
          expect((await signals.getWaiter(runId, 'a'))!.deliveredAt).toBeNull();
          expect((await signals.deliverSignal(runId, 'alpha', '"A"')).stepKey).toBe('a');
          expect((await signals.getWaiter(runId, 'b'))!.payloadJson).toBe('"B"');
        },
      },
      {
        id: 'signals.same-name-oldest-undelivered',
        title:
          'two waiters with one name: oldest undelivered first, then the next; AlreadyDelivered only when all are',
        requires: ['signals'],
        run: async ({ storage, clock }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'second', 'go', null);
          // Registered later, but the same instant: registration order breaks the tie.
          await signals.registerWaiter(runId, 'first-key-later', 'go', null);
          clock.advance(10);
          const one = await signals.deliverSignal(runId, 'go', '1');
          const two = await signals.deliverSignal(runId, 'go', '2');
          const three = await signals.deliverSignal(runId, 'go', '3');
          expect([one.status, two.status, three.status]).toEqual([
            'Delivered',
            'Delivered',
            'AlreadyDelivered',
          ]);
          expect([one.stepKey, two.stepKey]).toEqual(['second', 'first-key-later']);
        },
      },
      {
        id: 'signals.same-instant-registration-order',
        title:
          'three waiters with one name registered at one instant are delivered in registration order, not key order',
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          // Neither ascending nor descending key order, nor reverse registration, gives m, z, a.
          for (const key of ['m', 'z', 'a']) await signals.registerWaiter(runId, key, 'go', null);
          const delivered: (string | null)[] = [];
          for (let i = 0; i < 3; i++)
            delivered.push((await signals.deliverSignal(runId, 'go', `${i}`)).stepKey);
          expect(delivered).toEqual(['m', 'z', 'a']);
        },
      },
      {
        id: 'signals.oldest-registration-time-first',
        title:
          'delivery goes to the waiter with the oldest registration time even when it was stored last (replica clocks disagree)',
        requires: ['signals'],
        run: async ({ storage, clock }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          const start = clock.now().getTime();
          await signals.registerWaiter(runId, 'ahead', 'go', null);
          // A replica whose clock runs a minute behind registers the second waiter.
          clock.set(start - 60_000);
          await signals.registerWaiter(runId, 'behind', 'go', null);
          clock.set(start);
          expect((await signals.deliverSignal(runId, 'go', '1')).stepKey).toBe('behind');
          expect((await signals.deliverSignal(runId, 'go', '2')).stepKey).toBe('ahead');
        },
      },
      {
        id: 'signals.names-trimmed-case-sensitive',
        title: "names are trimmed and case-sensitive: ' ok ' reaches 'ok', 'OK' does not",
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'w', ' ok ', null);
          expect((await signals.getWaiter(runId, 'w'))!.signalName).toBe('ok');
          expect((await signals.deliverSignal(runId, 'OK', '1')).status).toBe('NotFound');
          expect((await signals.deliverSignal(runId, '  ok', '1')).status).toBe('Delivered');
        },
      },
      {
        id: 'signals.remove',
        title: 'removeWaiter deletes; removing an absent waiter is a no-op',
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'w', 'ok', null);
          await signals.removeWaiter(runId, 'w');
          await signals.removeWaiter(runId, 'w');
          await signals.removeWaiter(uuid(), 'x');
          expect(await signals.getWaiter(runId, 'w')).toBeNull();
          expect((await signals.deliverSignal(runId, 'ok', '1')).status).toBe('NotFound');
        },
      },
      {
        id: 'signals.expiry-not-enforced',
        title: 'the store does not enforce expiry: delivery after expiresAt is still Delivered',
        requires: ['signals'],
        run: async ({ storage, clock }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'w', 'ok', new Date(T0 + 1_000));
          clock.advance(60_000);
          expect((await signals.deliverSignal(runId, 'ok', '1')).status).toBe('Delivered');
        },
      },
      {
        id: 'signals.step-keys-case-sensitive',
        title: "waiters 'Wait' and 'wait' are distinct rows",
        requires: ['signals'],
        run: async ({ storage }) => {
          const signals = need(storage.signals, 'signals');
          const runId = uuid();
          await signals.registerWaiter(runId, 'Wait', 'a', null);
          await signals.registerWaiter(runId, 'wait', 'b', null);
          expect((await signals.getWaiter(runId, 'Wait'))!.signalName).toBe('a');
          expect((await signals.getWaiter(runId, 'wait'))!.signalName).toBe('b');
        },
      },
    ],
  },
  {
    name: 'schedules',
    cases: [
      {
        id: 'schedules.save-get',
        title: 'save then get round-trips; updatedAt = now; defaults not paused, no override',
        requires: ['schedules'],
        run: async ({ storage }) => {
          const schedules = need(storage.schedules, 'schedules');
          const flowId = uuid();
          const saved = await schedules.save({ jobId: 'flow:nightly', flowId, triggerKey: 'nightly' });
          const read = await schedules.get('flow:nightly');
          expect(read).toEqual(saved);
          expect(read).toMatchObject({
            jobId: 'flow:nightly',
            flowId,
            flowName: '',
            triggerKey: 'nightly',
            isPaused: false,
            cronOverride: null,
          });
          expect(read!.updatedAt.getTime()).toBe(T0);
        },
      },
      {
        id: 'schedules.save-overwrites',
        title: 'saving an existing job id overwrites every field and advances updatedAt',
        requires: ['schedules'],
        run: async ({ storage, clock }) => {
          const schedules = need(storage.schedules, 'schedules');
          await schedules.save({
            jobId: 'j',
            flowId: uuid(),
            flowName: 'A',
            triggerKey: 't',
            isPaused: true,
            cronOverride: '0 * * * *',
          });
          clock.advance(3_000);
          const flowId = uuid();
          await schedules.save({
            jobId: 'j',
            flowId,
            flowName: 'B',
            triggerKey: 'u',
            isPaused: false,
            cronOverride: null,
          });
          const read = await schedules.get('j');
          expect(read).toMatchObject({
            flowId,
            flowName: 'B',
            triggerKey: 'u',
            isPaused: false,
            cronOverride: null,
          });
          expect(read!.updatedAt.getTime()).toBe(T0 + 3_000);
        },
      },
      {
        id: 'schedules.paused-persisted',
        title: 'isPaused true is stored and read back by get and getAll',
        requires: ['schedules'],
        run: async ({ storage }) => {
          const schedules = need(storage.schedules, 'schedules');
          const saved = await schedules.save({ jobId: 'p', flowId: uuid(), triggerKey: 't', isPaused: true });
          expect(saved.isPaused).toBe(true);
          expect((await schedules.get('p'))!.isPaused).toBe(true);
          expect((await schedules.getAll()).map((s) => s.isPaused)).toEqual([true]);
        },
      },
      {
        id: 'schedules.reads-are-copies',
        title: 'mutating what save, get or getAll returned does not change the stored state',
        requires: ['schedules'],
        run: async ({ storage }) => {
          const schedules = need(storage.schedules, 'schedules');
          type Mutable = { isPaused: boolean; cronOverride: string | null; updatedAt: Date };
          const mutate = (s: unknown) => {
            const m = s as Mutable;
            m.isPaused = true;
            m.cronOverride = 'mutated';
            m.updatedAt.setTime(0);
          };
          mutate(await schedules.save({ jobId: 'c', flowId: uuid(), triggerKey: 't' }));
          mutate(await schedules.get('c'));
          mutate((await schedules.getAll())[0]);
          const read = await schedules.get('c');
          expect(read).toMatchObject({ isPaused: false, cronOverride: null });
          expect(read!.updatedAt.getTime()).toBe(T0);
        },
      },
      {
        id: 'schedules.get-all-ordinal',
        title: 'getAll is ordered by job id, ordinal (uppercase before lowercase)',
        requires: ['schedules'],
        run: async ({ storage }) => {
          const schedules = need(storage.schedules, 'schedules');
          for (const jobId of ['b', 'a', 'B', '_x', 'a10', 'a2']) {
            await schedules.save({ jobId, flowId: uuid(), triggerKey: 't' });
          }
          expect((await schedules.getAll()).map((s) => s.jobId)).toEqual(['B', '_x', 'a', 'a10', 'a2', 'b']);
        },
      },
      {
        id: 'schedules.get-all-many',
        title: 'getAll orders many job ids ordinally, whatever the save order',
        requires: ['schedules'],
        run: async ({ storage }) => {
          const schedules = need(storage.schedules, 'schedules');
          const ids = Array.from({ length: 70 }, () => uuid().slice(0, 8));
          for (const jobId of ids) await schedules.save({ jobId, flowId: uuid(), triggerKey: 't' });
          const ordinal = [...new Set(ids)].sort();
          expect((await schedules.getAll()).map((s) => s.jobId)).toEqual(ordinal);
        },
      },
      {
        id: 'schedules.delete',
        title: 'get of an unknown job is null; delete removes; deleting an absent job is a no-op',
        requires: ['schedules'],
        run: async ({ storage }) => {
          const schedules = need(storage.schedules, 'schedules');
          expect(await schedules.get('missing')).toBeNull();
          await schedules.save({ jobId: 'j', flowId: uuid(), triggerKey: 't', cronOverride: '*/5 * * * *' });
          expect((await schedules.get('j'))!.cronOverride).toBe('*/5 * * * *');
          await schedules.delete('j');
          await schedules.delete('j');
          expect(await schedules.get('j')).toBeNull();
          expect(await schedules.getAll()).toEqual([]);
        },
      },
    ],
  },
];

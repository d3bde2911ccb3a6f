import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { fulfilled, pick, race, T0, uuid } from '../fixtures.js';

/** Outputs repository and run events. */
export const outputCases: CaseGroup[] = [
  {
    name: 'outputs',
    cases: [
      {
        id: 'outputs.trigger-data-roundtrip',
        title: 'trigger data round-trips with key casing preserved',
        run: async ({ storage }) => {
          const runId = uuid();
          const data = { OrderId: 42, customerName: 'Zoë', Lines: [{ SKU: 'a-1', qty: 2 }] };
          await storage.outputs.saveTriggerData(runId, data);
          expect(await storage.outputs.getTriggerData(runId)).toEqual(data);
        },
      },
      {
        id: 'outputs.unknown-run-null',
        title: 'unknown run: trigger data, headers, step output and input all read null',
        run: async ({ storage }) => {
          const runId = uuid();
          expect(await storage.outputs.getTriggerData(runId)).toBeNull();
          expect(await storage.outputs.getTriggerHeaders(runId)).toBeNull();
          expect(await storage.outputs.getStepOutput(runId, 'a')).toBeNull();
          expect(await storage.outputs.getStepInput(runId, 'a')).toBeNull();
        },
      },
      {
        id: 'outputs.headers-roundtrip-case-insensitive',
        title: 'headers round-trip; names come back lowercased so lookups ignore case',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveTriggerHeaders(runId, {
            'X-Request-Id': 'abc',
            'Content-Type': 'application/json',
          });
          const headers = await storage.outputs.getTriggerHeaders(runId);
          expect(headers).toEqual({ 'x-request-id': 'abc', 'content-type': 'application/json' });
        },
      },
      {
        id: 'outputs.null-headers-store-nothing',
        title: 'saving null headers stores nothing and keeps earlier headers',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveTriggerHeaders(runId, null);
          expect(await storage.outputs.getTriggerHeaders(runId)).toBeNull();
          await storage.outputs.saveTriggerHeaders(runId, { A: '1' });
          await storage.outputs.saveTriggerHeaders(runId, null);
          await storage.outputs.saveTriggerHeaders(runId, undefined as never);
          expect(await storage.outputs.getTriggerHeaders(runId)).toEqual({ a: '1' });
        },
      },
      {
        id: 'outputs.step-output-overwrite',
        title: 'step output round-trips; a second save overwrites',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveStepOutput(runId, 'fetch', { n: 1 });
          expect(await storage.outputs.getStepOutput(runId, 'fetch')).toEqual({ n: 1 });
          await storage.outputs.saveStepOutput(runId, 'fetch', [1, 2, 3]);
          expect(await storage.outputs.getStepOutput(runId, 'fetch')).toEqual([1, 2, 3]);
        },
      },
      {
        id: 'outputs.step-input-independent',
        title: 'step input is stored apart from the output of the same step',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveStepInput(runId, 'send', { to: 'x@example.com' });
          expect(await storage.outputs.getStepOutput(runId, 'send')).toBeNull();
          await storage.outputs.saveStepOutput(runId, 'send', { ok: true });
          expect(await storage.outputs.getStepInput(runId, 'send')).toEqual({ to: 'x@example.com' });
          expect(await storage.outputs.getStepOutput(runId, 'send')).toEqual({ ok: true });
        },
      },
      {
        id: 'outputs.null-output-reads-null',
        title: 'a stored null or undefined output reads back as null',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveStepOutput(runId, 'a', null);
          await storage.outputs.saveStepOutput(runId, 'b', undefined);
          expect(await storage.outputs.getStepOutput(runId, 'a')).toBeNull();
          expect(await storage.outputs.getStepOutput(runId, 'b')).toBeNull();
        },
      },
      {
        id: 'outputs.null-clears-existing',
        title:
          'saving null or undefined over a stored output, input or trigger payload replaces it with null',
        run: async ({ storage }) => {
          const runId = uuid();
          const o = storage.outputs;
          for (const empty of [null, undefined]) {
            await o.saveStepOutput(runId, 'a', { v: 1 });
            await o.saveStepInput(runId, 'a', { v: 2 });
            await o.saveTriggerData(runId, { v: 3 });
            await o.saveStepOutput(runId, 'a', empty);
            await o.saveStepInput(runId, 'a', empty);
            await o.saveTriggerData(runId, empty);
            expect(await o.getStepOutput(runId, 'a')).toBeNull();
            expect(await o.getStepInput(runId, 'a')).toBeNull();
            expect(await o.getTriggerData(runId)).toBeNull();
          }
        },
      },
      {
        id: 'outputs.isolated-per-run',
        title: 'outputs of one run are invisible to another',
        run: async ({ storage }) => {
          const a = uuid();
          const b = uuid();
          await storage.outputs.saveStepOutput(a, 'step', 'from-a');
          await storage.outputs.saveTriggerData(a, { run: 'a' });
          expect(await storage.outputs.getStepOutput(b, 'step')).toBeNull();
          expect(await storage.outputs.getTriggerData(b)).toBeNull();
        },
      },
      {
        id: 'outputs.step-keys-case-sensitive',
        title: "step keys are case-sensitive: 'Fetch' and 'fetch' are different outputs",
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveStepOutput(runId, 'Fetch', 'upper');
          await storage.outputs.saveStepOutput(runId, 'fetch', 'lower');
          expect(await storage.outputs.getStepOutput(runId, 'Fetch')).toBe('upper');
          expect(await storage.outputs.getStepOutput(runId, 'fetch')).toBe('lower');
        },
      },
      {
        id: 'outputs.reads-are-copies',
        title: 'mutating a value read back does not change what is stored',
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.saveStepOutput(runId, 'a', { list: [1] });
          const first = (await storage.outputs.getStepOutput(runId, 'a')) as { list: number[] };
          first.list.push(2);
          expect(await storage.outputs.getStepOutput(runId, 'a')).toEqual({ list: [1] });
        },
      },
      {
        id: 'outputs.unserialisable-rejected',
        title:
          'a value JSON cannot hold (BigInt, cycle) is rejected with INVALID_ARGUMENT; the old value survives',
        run: async ({ storage }) => {
          const runId = uuid();
          // Messages are not part of the contract; the error class name and code are.
          const invalid = { name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT' };
          await storage.outputs.saveStepOutput(runId, 'a', { ok: 1 });
          await expect(storage.outputs.saveStepOutput(runId, 'a', { n: 10n })).rejects.toMatchObject(invalid);
          const cyclic: Record<string, unknown> = {};
          cyclic.self = cyclic;
          await expect(storage.outputs.saveStepOutput(runId, 'a', cyclic)).rejects.toMatchObject(invalid);
          await expect(storage.outputs.saveStepInput(runId, 'a', cyclic)).rejects.toMatchObject(invalid);
          await expect(storage.outputs.saveTriggerData(runId, { n: 1n })).rejects.toMatchObject(invalid);
          expect(await storage.outputs.getStepOutput(runId, 'a')).toEqual({ ok: 1 });
        },
      },
    ],
  },
  {
    name: 'events',
    cases: [
      {
        id: 'events.record-and-read',
        title: 'recordEvent then getRunEvents returns type, message, timestamp and step key',
        requires: ['events'],
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.recordEvent(runId, { type: 'StepStarted', stepKey: 'fetch', message: 'go' });
          await storage.outputs.recordEvent(runId, { type: 'RunStarted', timestamp: new Date(T0 - 5) });
          const events = await need(storage.events, 'events').getRunEvents(runId);
          expect(events).toHaveLength(2);
          expect(events[0]).toMatchObject({ runId, type: 'StepStarted', stepKey: 'fetch', message: 'go' });
          expect(events[0]!.timestamp.getTime()).toBe(T0);
          expect(events[1]).toMatchObject({ type: 'RunStarted', stepKey: null, message: null });
          expect(events[1]!.timestamp.getTime()).toBe(T0 - 5);
        },
      },
      {
        id: 'events.default-step-key',
        title: "an event without a step key takes the caller's default step key",
        requires: ['events'],
        run: async ({ storage }) => {
          const runId = uuid();
          await storage.outputs.recordEvent(runId, { type: 'Log' }, 'poll');
          await storage.outputs.recordEvent(runId, { type: 'Log', stepKey: 'own' }, 'poll');
          const events = await need(storage.events, 'events').getRunEvents(runId);
          expect(events.map((e) => e.stepKey)).toEqual(['poll', 'own']);
        },
      },
      {
        id: 'events.ordered-by-sequence',
        title: 'events come back in append order with strictly increasing sequences',
        requires: ['events'],
        run: async ({ storage, clock }) => {
          const runId = uuid();
          for (let i = 0; i < 12; i++) {
            await storage.outputs.recordEvent(runId, { type: `E${i}` });
            if (i % 3 === 0) clock.advance(-1); // timestamps going backwards must not reorder
          }
          const events = await need(storage.events, 'events').getRunEvents(runId, { take: 100 });
          expect(events.map((e) => e.type)).toEqual(Array.from({ length: 12 }, (_, i) => `E${i}`));
          for (let i = 1; i < events.length; i++)
            expect(events[i]!.sequence).toBeGreaterThan(events[i - 1]!.sequence);
        },
      },
      {
        id: 'events.paging-clamps',
        title: 'skip/take paging; skip<0 → 0, take<1 → 1, default take 200',
        requires: ['events'],
        run: async ({ storage }) => {
          const reader = need(storage.events, 'events');
          const runId = uuid();
          for (let i = 0; i < 205; i++) await storage.outputs.recordEvent(runId, { type: `E${i}` });
          expect(await reader.getRunEvents(runId)).toHaveLength(200);
          expect((await reader.getRunEvents(runId, { skip: 200, take: 10 })).map((e) => e.type)).toEqual([
            'E200',
            'E201',
            'E202',
            'E203',
            'E204',
          ]);
          expect((await reader.getRunEvents(runId, { skip: -4, take: 2 })).map((e) => e.type)).toEqual([
            'E0',
            'E1',
          ]);
          expect((await reader.getRunEvents(runId, { skip: 3, take: 0 })).map((e) => e.type)).toEqual(['E3']);
        },
      },
      {
        id: 'events.isolated-per-run',
        title: 'events are isolated per run; an unknown run has none',
        requires: ['events'],
        run: async ({ storage }) => {
          const a = uuid();
          await storage.outputs.recordEvent(a, { type: 'X' });
          expect(await need(storage.events, 'events').getRunEvents(uuid())).toEqual([]);
        },
      },
      {
        id: 'events.bulk-append-ordered',
        title: 'recordEvents (when offered) appends a batch across runs in array order',
        requires: ['events'],
        run: async ({ storage, skip }) => {
          const bulk = storage.outputs.recordEvents?.bind(storage.outputs);
          if (!bulk) return skip('backend does not offer outputs.recordEvents');
          const a = uuid();
          const b = uuid();
          const batch = Array.from({ length: 10 }, (_, i) => ({
            runId: i % 2 === 0 ? a : b,
            event: { type: `E${i}`, stepKey: 's' },
          }));
          await bulk(batch);
          await storage.outputs.recordEvent(a, { type: 'after' });
          const reader = need(storage.events, 'events');
          const ofA = await reader.getRunEvents(a);
          for (let i = 1; i < ofA.length; i++) expect(ofA[i]!.sequence).toBeGreaterThan(ofA[i - 1]!.sequence);
          expect(ofA.at(-1)!.type).toBe('after');
          expect(ofA.map((e) => e.type)).toEqual(['E0', 'E2', 'E4', 'E6', 'E8', 'after']);
          const ofB = await reader.getRunEvents(b);
          expect(ofB.map((e) => e.type)).toEqual(['E1', 'E3', 'E5', 'E7', 'E9']);
          expect(ofB.every((e) => e.stepKey === 's' && e.timestamp.getTime() === T0)).toBe(true);
        },
      },
      {
        id: 'events.bulk-atomic',
        title:
          'recordEvents (when offered) stores all of a batch or none of it: a bad element stores nothing',
        requires: ['events'],
        run: async ({ storage, skip }) => {
          const bulk = storage.outputs.recordEvents?.bind(storage.outputs);
          if (!bulk) return skip('backend does not offer outputs.recordEvents');
          const runId = uuid();
          await storage.outputs.recordEvent(runId, { type: 'Before' });
          // The third element is not an event at all: the call must fail before anything lands.
          const batch = [
            { runId, event: { type: 'A' } },
            { runId, event: { type: 'B' } },
            { runId, event: null as never },
            { runId, event: { type: 'D' } },
          ];
          await expect(bulk(batch)).rejects.toBeDefined();
          const events = await need(storage.events, 'events').getRunEvents(runId);
          expect(events.map((e) => e.type)).toEqual(['Before']);
        },
      },
      {
        id: 'events.log.read-after',
        title:
          "readEventLog (when offered) reads every run's events ascending from a cursor; lastEventSequence is the highest",
        requires: ['events'],
        run: async ({ storage, skip }) => {
          const reader = need(storage.events, 'events');
          if (!reader.readEventLog || !reader.lastEventSequence)
            return skip('backend does not offer events.readEventLog');
          const start = await reader.lastEventSequence();
          const a = uuid();
          const b = uuid();
          await storage.outputs.recordEvent(a, { type: 'A1', stepKey: 's', message: 'one' });
          await storage.outputs.recordEvent(b, { type: 'B1' });
          await storage.outputs.recordEvent(a, { type: 'A2' });
          const all = await reader.readEventLog({ after: start });
          expect(all.map((e) => `${e.runId === a ? 'a' : 'b'}:${e.type}`)).toEqual(['a:A1', 'b:B1', 'a:A2']);
          expect(all[0]).toMatchObject({ runId: a, stepKey: 's', message: 'one' });
          for (let i = 1; i < all.length; i++) expect(all[i]!.sequence).toBeGreaterThan(all[i - 1]!.sequence);
          expect(await reader.lastEventSequence()).toBe(all[2]!.sequence);
          const tail = await reader.readEventLog({ after: all[0]!.sequence });
          expect(tail.map((e) => e.type)).toEqual(['B1', 'A2']);
          expect((await reader.readEventLog({ after: start, take: 2 })).map((e) => e.type)).toEqual([
            'A1',
            'B1',
          ]);
          expect(await reader.readEventLog({ after: all[2]!.sequence })).toEqual([]);
          // Clamps: take < 1 reads one, a negative cursor reads from the start.
          expect(await reader.readEventLog({ after: start, take: 0 })).toHaveLength(1);
          expect((await reader.readEventLog({ after: -5, take: 1000 })).length).toBeGreaterThanOrEqual(3);
          // The highest is the newest event of any run, however long that run's log is.
          await storage.outputs.recordEvent(a, { type: 'A3' });
          const [a3] = await reader.readEventLog({ after: all[2]!.sequence });
          expect(await reader.lastEventSequence()).toBe(a3!.sequence);
        },
      },
      {
        id: 'events.log.sees-engine-transitions',
        title: 'readEventLog (when offered) includes events written by queue transitions',
        requires: ['events', 'queue'],
        run: async ({ storage, skip }) => {
          const reader = need(storage.events, 'events');
          if (!reader.readEventLog || !reader.lastEventSequence)
            return skip('backend does not offer events.readEventLog');
          const start = await reader.lastEventSequence();
          const runId = uuid();
          await need(storage.queue, 'queue').startRun({
            run: { runId, flowId: uuid(), flowName: 'f', triggerKey: 'manual' },
            triggerHeaders: null,
            idempotencyKey: null,
            timeoutAt: null,
            entrySteps: [],
            events: [{ type: 'run.started', stepKey: '__run', message: 'go' }],
          });
          const log = await reader.readEventLog({ after: start });
          expect(log.map((e) => [e.runId, e.type])).toEqual([[runId, 'run.started']]);
        },
      },
      {
        id: 'race.events.concurrent-appends',
        title: '100 concurrent recordEvent on one run across connections: 100 distinct sequences, none lost',
        requires: ['events'],
        needsPeers: true,
        run: async ({ instances }) => {
          const stores = await instances(3);
          const runId = uuid();
          fulfilled(
            await race(
              Array.from(
                { length: 100 },
                (_, i) => () => pick(stores, i).outputs.recordEvent(runId, { type: `E${i}` }),
              ),
            ),
          );
          const events = await need(stores[0]!.events, 'events').getRunEvents(runId, { take: 1000 });
          expect(events).toHaveLength(100);
          expect(new Set(events.map((e) => e.sequence)).size).toBe(100);
          expect(new Set(events.map((e) => e.type)).size).toBe(100);
        },
      },
    ],
  },
];

import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { countTrue, fulfilled, pick, race, startRun, T0, uuid } from '../fixtures.js';

const EMPTY = '00000000-0000-0000-0000-000000000000';

/** Run control and idempotency. */
export const controlCases: CaseGroup[] = [
  {
    name: 'control',
    cases: [
      {
        id: 'control.configure-roundtrip',
        title: 'configureRun then getRunControl returns the fields, not cancelled',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          const flowId = uuid();
          const deadline = new Date(T0 + 60_000);
          await ctl.configureRun({
            runId,
            flowId,
            triggerKey: 'webhook',
            idempotencyKey: 'Key-1',
            timeoutAt: deadline,
          });
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({
            runId,
            flowId,
            triggerKey: 'webhook',
            idempotencyKey: 'Key-1',
            cancelRequested: false,
            cancelReason: null,
            cancelRequestedAt: null,
            timedOutAt: null,
          });
          expect(row!.timeoutAt!.getTime()).toBe(deadline.getTime());
          expect(row!.createdAt.getTime()).toBe(T0);
        },
      },
      {
        id: 'control.unknown-null',
        title: 'getRunControl of an unknown run returns null',
        requires: ['control'],
        run: async ({ storage }) => {
          expect(await need(storage.control, 'control').getRunControl(uuid())).toBeNull();
        },
      },
      {
        id: 'control.configure-twice-preserves-cancel',
        title: 'configureRun on an existing row updates fields and preserves cancel/timeout state',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.configureRun({ runId, flowId: uuid(), triggerKey: 'a' });
          await ctl.requestCancel(runId, 'user asked');
          await ctl.markTimedOut(runId);
          const flowId = uuid();
          await ctl.configureRun({
            runId,
            flowId,
            triggerKey: 'b',
            idempotencyKey: 'k',
            timeoutAt: new Date(T0 + 5),
          });
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({
            flowId,
            triggerKey: 'b',
            idempotencyKey: 'k',
            cancelRequested: true,
            cancelReason: 'user asked',
          });
          expect(row!.timedOutAt!.getTime()).toBe(T0);
          expect(row!.timeoutAt!.getTime()).toBe(T0 + 5);
        },
      },
      {
        id: 'control.cancel-guarded',
        title: 'requestCancel: true then false; first reason and time kept',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.configureRun({ runId, flowId: uuid(), triggerKey: 'manual' });
          expect(await ctl.requestCancel(runId, 'first')).toBe(true);
          clock.advance(1000);
          expect(await ctl.requestCancel(runId, 'second')).toBe(false);
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({ cancelRequested: true, cancelReason: 'first', timedOutAt: null });
          expect(row!.cancelRequestedAt!.getTime()).toBe(T0);
        },
      },
      {
        id: 'control.cancel-without-row-creates',
        title: 'requestCancel on a run without a control row creates it and returns true',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          expect(await ctl.requestCancel(runId, 'why')).toBe(true);
          expect(await ctl.getRunControl(runId)).toMatchObject({
            runId,
            flowId: EMPTY,
            triggerKey: '',
            cancelRequested: true,
            cancelReason: 'why',
          });
        },
      },
      {
        id: 'control.timeout-guarded',
        title: 'markTimedOut: first true, later false; timedOutAt kept; cancel flag forced',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.configureRun({ runId, flowId: uuid(), triggerKey: 'manual' });
          expect(await ctl.markTimedOut(runId)).toBe(true);
          clock.advance(5000);
          expect(await ctl.markTimedOut(runId, 'again')).toBe(false);
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({ cancelRequested: true, cancelReason: 'Run timed out.' });
          expect(row!.timedOutAt!.getTime()).toBe(T0);
          expect(row!.cancelRequestedAt!.getTime()).toBe(T0);
        },
      },
      {
        id: 'control.timeout-without-row-creates',
        title: 'markTimedOut on a run without a control row creates it and returns true',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          expect(await ctl.markTimedOut(runId, 'deadline')).toBe(true);
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({ flowId: EMPTY, cancelRequested: true, cancelReason: 'deadline' });
          expect(row!.timedOutAt!.getTime()).toBe(T0);
        },
      },
      {
        id: 'control.cancel-then-timeout',
        title: 'cancel then markTimedOut: both true, both flags set, earlier cancel time kept',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          expect(await ctl.requestCancel(runId, 'stop')).toBe(true);
          clock.advance(100);
          expect(await ctl.markTimedOut(runId)).toBe(true);
          const row = await ctl.getRunControl(runId);
          expect(row!.cancelRequested).toBe(true);
          expect(row!.timedOutAt!.getTime()).toBe(T0 + 100);
          expect(row!.cancelRequestedAt!.getTime()).toBe(T0);
        },
      },
      {
        id: 'control.timeout-then-cancel',
        title: 'markTimedOut then requestCancel: cancel returns false and the run stays timed out',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.markTimedOut(runId);
          expect(await ctl.requestCancel(runId, 'late cancel')).toBe(false);
          const row = await ctl.getRunControl(runId);
          expect(row!.timedOutAt).not.toBeNull();
          expect(row!.cancelReason).toBe('Run timed out.');
        },
      },
      {
        id: 'control.timeout-reason-precedence',
        title: 'markTimedOut reason = given ?? existing cancel reason ?? "Run timed out."',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const keep = uuid();
          await ctl.requestCancel(keep, 'operator');
          await ctl.markTimedOut(keep);
          expect((await ctl.getRunControl(keep))!.cancelReason).toBe('operator');
          const override = uuid();
          await ctl.requestCancel(override, 'operator');
          await ctl.markTimedOut(override, 'hard deadline');
          expect((await ctl.getRunControl(override))!.cancelReason).toBe('hard deadline');
        },
      },
      {
        id: 'control.extend-deadline-moves',
        title: 'extendDeadline moves the deadline and returns true; false without a control row',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.configureRun({
            runId,
            flowId: uuid(),
            triggerKey: 'manual',
            timeoutAt: new Date(T0 + 1000),
          });
          expect(await ctl.extendDeadline(runId, new Date(T0 + 99_000))).toBe(true);
          expect((await ctl.getRunControl(runId))!.timeoutAt!.getTime()).toBe(T0 + 99_000);
          expect(await ctl.extendDeadline(uuid(), new Date(T0))).toBe(false);
        },
      },
      {
        id: 'control.extend-deadline-unlatches-timeout',
        title: 'extendDeadline clears a timeout and the cancel flag it set',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.configureRun({ runId, flowId: uuid(), triggerKey: 'manual', timeoutAt: new Date(T0) });
          await ctl.markTimedOut(runId);
          clock.advance(1000);
          expect(await ctl.extendDeadline(runId, new Date(T0 + 60_000))).toBe(true);
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({
            timedOutAt: null,
            cancelRequested: false,
            cancelReason: null,
            cancelRequestedAt: null,
          });
          expect(await ctl.markTimedOut(runId)).toBe(true);
        },
      },
      {
        id: 'control.extend-deadline-keeps-earlier-cancel',
        title: 'extendDeadline keeps a cancel that was requested before the timeout',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const runId = uuid();
          await ctl.requestCancel(runId, 'user');
          clock.advance(1000);
          await ctl.markTimedOut(runId);
          await ctl.extendDeadline(runId, new Date(T0 + 60_000));
          const row = await ctl.getRunControl(runId);
          expect(row).toMatchObject({ timedOutAt: null, cancelRequested: true, cancelReason: 'user' });
          expect(row!.cancelRequestedAt!.getTime()).toBe(T0);
        },
      },
      {
        id: 'control.past-deadline-query',
        title: 'getRunsPastDeadline lists Running runs whose deadline passed, earliest first, bounded',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const late = await startRun(storage);
          const later = await startRun(storage);
          const future = await startRun(storage);
          const finished = await startRun(storage);
          await ctl.configureRun({
            runId: late.id,
            flowId: late.flowId,
            triggerKey: 'm',
            timeoutAt: new Date(T0 + 1000),
          });
          await ctl.configureRun({
            runId: later.id,
            flowId: later.flowId,
            triggerKey: 'm',
            timeoutAt: new Date(T0 + 2000),
          });
          await ctl.configureRun({
            runId: future.id,
            flowId: future.flowId,
            triggerKey: 'm',
            timeoutAt: new Date(T0 + 99_000),
          });
          await ctl.configureRun({
            runId: finished.id,
            flowId: finished.flowId,
            triggerKey: 'm',
            timeoutAt: new Date(T0),
          });
          await storage.runs.completeRun(finished.id, 'Succeeded');
          clock.advance(2000);
          const overdue = await ctl.getRunsPastDeadline(10);
          expect(overdue.map((o) => o.runId)).toEqual([late.id, later.id]);
          expect(overdue[0]).toMatchObject({ flowId: late.flowId });
          expect(overdue[0]!.timeoutAt.getTime()).toBe(T0 + 1000);
          expect(await ctl.getRunsPastDeadline(1)).toHaveLength(1);
        },
      },
      {
        id: 'control.past-deadline-tie-by-run-id',
        title: 'runs overdue since the same instant are listed by run id',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const runs = [];
          for (let i = 0; i < 6; i++) runs.push(await startRun(storage));
          const later = await startRun(storage);
          await ctl.configureRun({
            runId: later.id,
            flowId: later.flowId,
            triggerKey: 'm',
            timeoutAt: new Date(T0 + 2_000),
          });
          for (const run of runs)
            await ctl.configureRun({
              runId: run.id,
              flowId: run.flowId,
              triggerKey: 'm',
              timeoutAt: new Date(T0 + 1_000),
            });
          clock.advance(5_000);
          const overdue = await ctl.getRunsPastDeadline(10);
          expect(overdue.map((o) => o.runId)).toEqual([...runs.map((r) => r.id).sort(), later.id]);
        },
      },
      {
        id: 'control.idempotency-key-trimmed',
        title: 'configureRun stores the idempotency key trimmed, and a blank key as none',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const a = uuid();
          const b = uuid();
          await ctl.configureRun({ runId: a, flowId: uuid(), triggerKey: 'm', idempotencyKey: '  order-7 ' });
          await ctl.configureRun({ runId: b, flowId: uuid(), triggerKey: 'm', idempotencyKey: '   ' });
          expect((await ctl.getRunControl(a))!.idempotencyKey).toBe('order-7');
          expect((await ctl.getRunControl(b))!.idempotencyKey).toBeNull();
        },
      },
      {
        id: 'control.past-deadline-empty-without-deadlines',
        title: 'runs without a deadline are never overdue',
        requires: ['control'],
        run: async ({ storage, clock }) => {
          const ctl = need(storage.control, 'control');
          const run = await startRun(storage);
          await ctl.configureRun({ runId: run.id, flowId: run.flowId, triggerKey: 'm' });
          await startRun(storage); // Running, with no control row at all
          clock.advance(365 * 86_400_000);
          expect(await ctl.getRunsPastDeadline(10)).toEqual([]);
        },
      },
    ],
  },
  {
    name: 'idempotency',
    cases: [
      {
        id: 'idempotency.first-wins',
        title: 'tryRegisterIdempotencyKey true then false; find returns the first run',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const flowId = uuid();
          const first = uuid();
          expect(await ctl.tryRegisterIdempotencyKey(flowId, 'webhook', 'order-1', first)).toBe(true);
          expect(await ctl.tryRegisterIdempotencyKey(flowId, 'webhook', 'order-1', uuid())).toBe(false);
          expect(await ctl.findRunIdByIdempotencyKey(flowId, 'webhook', 'order-1')).toBe(first);
        },
      },
      {
        id: 'idempotency.scoped-per-trigger-and-flow',
        title: 'the same key under another trigger key or flow is independent',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const flowId = uuid();
          const a = uuid();
          const b = uuid();
          const c = uuid();
          expect(await ctl.tryRegisterIdempotencyKey(flowId, 'manual', 'k', a)).toBe(true);
          expect(await ctl.tryRegisterIdempotencyKey(flowId, 'webhook', 'k', b)).toBe(true);
          const otherFlow = uuid();
          expect(await ctl.tryRegisterIdempotencyKey(otherFlow, 'manual', 'k', c)).toBe(true);
          expect(await ctl.findRunIdByIdempotencyKey(flowId, 'manual', 'k')).toBe(a);
          expect(await ctl.findRunIdByIdempotencyKey(flowId, 'webhook', 'k')).toBe(b);
          expect(await ctl.findRunIdByIdempotencyKey(otherFlow, 'manual', 'k')).toBe(c);
        },
      },
      {
        id: 'idempotency.normalised',
        title: 'keys and trigger keys are trimmed and compared case-insensitively',
        requires: ['control'],
        run: async ({ storage }) => {
          const ctl = need(storage.control, 'control');
          const flowId = uuid();
          const runId = uuid();
          expect(await ctl.tryRegisterIdempotencyKey(flowId, ' Webhook ', '  Key-A ', runId)).toBe(true);
          expect(await ctl.tryRegisterIdempotencyKey(flowId, 'webhook', 'key-a', uuid())).toBe(false);
          expect(await ctl.findRunIdByIdempotencyKey(flowId, 'WEBHOOK', 'KEY-A')).toBe(runId);
        },
      },
      {
        id: 'idempotency.unknown-null',
        title: 'find of an unknown key returns null',
        requires: ['control'],
        run: async ({ storage }) => {
          expect(
            await need(storage.control, 'control').findRunIdByIdempotencyKey(uuid(), 'manual', 'nope'),
          ).toBeNull();
        },
      },
      {
        id: 'race.idempotency.exclusive-under-contention',
        title:
          'N concurrent registrations with distinct run ids: one true, find returns the winner, no errors',
        requires: ['control'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const stores = await instances(3);
          const flowId = uuid();
          const runIds = Array.from({ length: raceWidth }, () => uuid());
          const results = fulfilled(
            await race(
              runIds.map(
                (runId, i) => () =>
                  need(pick(stores, i).control, 'control').tryRegisterIdempotencyKey(
                    flowId,
                    'webhook',
                    'dup-key',
                    runId,
                  ),
              ),
            ),
          );
          expect(countTrue(results)).toBe(1);
          const winner = runIds[results.indexOf(true)];
          expect(
            await need(stores[1]!.control, 'control').findRunIdByIdempotencyKey(flowId, 'webhook', 'DUP-KEY'),
          ).toBe(winner);
        },
      },
    ],
  },
];

import { expect } from 'vitest';
import type { CaseGroup } from '../case.js';
import { need } from '../case.js';
import { uuid } from '../fixtures.js';
import { keysOf, q, startAndTake, trigger } from './queue-support.js';

const invalid = { code: 'INVALID_ARGUMENT' };

/**
 * Conformance cases for the queue's edges: argument checks, boundaries of leases and due times,
 * defaults of the trigger transition and every kind of write a run transaction can make.
 */
export const queueEdgeCases: readonly CaseGroup[] = [
  {
    name: 'FlowStepQueueStore: arguments and boundaries',
    cases: [
      {
        id: 'queue.start-run.defaults-and-folding',
        title:
          'startRun refuses a blank run id, folds ids, stores null trigger data and no headers as such, and trims the idempotency key it keeps',
        requires: ['queue', 'control'],
        run: async ({ storage }) => {
          await expect(q(storage).startRun(trigger({ runId: '' }))).rejects.toMatchObject(invalid);
          const flowId = uuid();
          const { runId } = await q(storage).startRun({
            ...trigger({ flowId: flowId.toUpperCase(), idempotencyKey: '  Order-7 ', triggerHeaders: null }),
            run: { ...trigger().run, flowId: flowId.toUpperCase(), triggerDataJson: null },
          });
          const run = (await storage.runs.getRunDetail(runId))!;
          expect(run.flowId).toBe(flowId);
          expect(run.triggerHeaders).toBeNull();
          expect(await storage.outputs.getTriggerData(runId)).toBeNull();
          const control = (await need(storage.control, 'control').getRunControl(runId))!;
          expect(control.idempotencyKey).toBe('Order-7');
          expect(control.flowId).toBe(flowId);
          expect(await storage.control!.findRunIdByIdempotencyKey(flowId, 'manual', 'order-7')).toBe(runId);
          // A run started without a key registers none.
          const keyless = uuid();
          await q(storage).startRun(trigger({ flowId: keyless }));
          expect(await storage.control!.findRunIdByIdempotencyKey(keyless, 'manual', '')).toBeNull();
        },
      },
      {
        id: 'queue.take.arguments',
        title:
          'take refuses a lease that is not a positive number; a limit of 0 or less takes nothing; a fractional limit is truncated',
        requires: ['queue'],
        run: async ({ storage }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a', 'b'] }));
          for (const leaseMs of [0, -5, Number.NaN])
            await expect(q(storage).take({ owner: 'w', limit: 1, leaseMs })).rejects.toMatchObject(invalid);
          expect(await q(storage).take({ owner: 'w', limit: 0, leaseMs: 1_000 })).toEqual([]);
          expect(await q(storage).take({ owner: 'w', limit: -3, leaseMs: 1_000 })).toEqual([]);
          expect(await q(storage).take({ owner: 'w', limit: 1.9, leaseMs: 1_000 })).toHaveLength(1);
          expect(keysOf(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 }))).toHaveLength(1);
          expect(
            await q(storage).startStep({ runId, stepKey: 'a', owner: 'w', stepType: 'W', inputJson: null }),
          ).toBe(true);
        },
      },
      {
        id: 'queue.take.tie-order',
        title:
          'rows due at one instant are taken run by run, each run by step key (ordinal); an earlier due time always comes first',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const runs = [uuid(), uuid()];
          for (const runId of runs)
            await q(storage).startRun(trigger({ runId, entrySteps: ['b', 'a', 'C'] }));
          const later = uuid();
          await q(storage).startRun(trigger({ runId: later, entrySteps: [] }));
          const at = (ms: number) => new Date(clock.now().getTime() + ms);
          await q(storage).transact(later, async (tx) => {
            tx.enqueue('z', { visibleAt: at(10) });
            tx.enqueue('a', { visibleAt: at(20) });
          });
          clock.advance(20);
          const taken = keysOf(await q(storage).take({ owner: 'w', limit: 10, leaseMs: 1_000 }));
          // Runs may come in the backend's own key order (SQL Server orders uniqueidentifiers its
          // way), but each run's rows come together, by step key.
          const first = taken[0]!.split('/')[0]!;
          const second = runs.find((r) => r !== first)!;
          expect(runs).toContain(first);
          expect(taken).toEqual([
            ...['C', 'a', 'b'].map((k) => `${first}/${k}`),
            ...['C', 'a', 'b'].map((k) => `${second}/${k}`),
            `${later}/z`,
            `${later}/a`,
          ]);
        },
      },
      {
        id: 'queue.renew.arguments-and-absent-claims',
        title:
          'renew refuses a non-positive lease; an unknown run or an untaken step is not held (the control row still read)',
        requires: ['queue', 'control'],
        run: async ({ storage }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          await expect(q(storage).renew(runId, 'a', 'me', 0)).rejects.toMatchObject(invalid);
          expect(await q(storage).renew(uuid(), 'a', 'me', 1_000)).toEqual({ held: false, control: null });
          const untaken = await q(storage).renew(runId, 'nope', 'me', 1_000);
          expect(untaken.held).toBe(false);
          expect(untaken.control).toMatchObject({ runId, cancelRequested: false });
        },
      },
      {
        id: 'queue.renew.finished-step-stays-done',
        title: 'a heartbeat arriving after the step finished never puts it back in the queue',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          await q(storage).transact(runId, async (tx) => {
            tx.finish(
              'a',
              { status: 'Succeeded', outputJson: null, errorMessage: null, owner: 'me' },
              { kind: 'done' },
            );
            tx.enqueue('later', { visibleAt: new Date(clock.now().getTime() + 600_000) });
          });
          await q(storage).renew(runId, 'a', 'me', 5_000);
          expect(await q(storage).nextVisibleAt()).toEqual(new Date(clock.now().getTime() + 600_000));
          clock.advance(60_000);
          expect(await q(storage).take({ owner: 'other', limit: 5, leaseMs: 1_000 })).toEqual([]);
        },
      },
      {
        id: 'queue.wake.lease-boundary',
        title:
          'wake refuses an unknown run and a finished row; a claim whose lease ends exactly now has lapsed and no longer blocks it',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          expect(await q(storage).wake(uuid(), 'a')).toBe(false);
          const runId = await startAndTake(storage, ['a', 'b'], 'me');
          clock.advance(9_999);
          expect(await q(storage).wake(runId, 'a')).toBe(false);
          clock.advance(1);
          expect(await q(storage).wake(runId, 'a')).toBe(true);
          await q(storage).transact(runId, async (tx) => {
            tx.finish('b', { status: 'Succeeded', outputJson: null, errorMessage: null }, { kind: 'done' });
          });
          expect(await q(storage).wake(runId, 'b')).toBe(false);
          expect(keysOf(await q(storage).take({ owner: 'new', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/a`,
          ]);
        },
      },
      {
        id: 'queue.release.later-and-folded',
        title:
          'release with a visible-at hands the row back for then, not before; the run id is matched case-insensitively',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          const at = new Date(clock.now().getTime() + 5_000);
          expect(await q(storage).release(runId.toUpperCase(), 'a', 'me', at)).toBe(true);
          expect(await q(storage).nextVisibleAt()).toEqual(at);
          clock.advance(4_999);
          expect(await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 })).toEqual([]);
          clock.advance(1);
          expect(keysOf(await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 }))).toEqual([
            `${runId}/a`,
          ]);
          expect(await q(storage).release(uuid(), 'a', 'other')).toBe(false);
          expect(await q(storage).release(runId, 'never-queued', 'other')).toBe(false);
        },
      },
      {
        id: 'queue.next-visible-at',
        title:
          'nextVisibleAt is the earliest due time of queued rows of running runs: a taken row counts at its lease expiry, done rows and closed runs not at all',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          expect(await q(storage).nextVisibleAt()).toBeNull();
          const start = clock.now().getTime();
          const runId = await startAndTake(storage, ['a'], 'me');
          expect(await q(storage).nextVisibleAt()).toEqual(new Date(start + 10_000));
          await q(storage).transact(runId, async (tx) => {
            tx.finish(
              'a',
              { status: 'Succeeded', outputJson: null, errorMessage: null, owner: 'me' },
              { kind: 'done' },
            );
            tx.enqueue('c', { visibleAt: new Date(start + 20_000) });
            tx.enqueue('b', { visibleAt: new Date(start + 30_000) });
          });
          expect(await q(storage).nextVisibleAt()).toEqual(new Date(start + 20_000));
          const closed = (await q(storage).startRun(trigger({ entrySteps: ['x'] }))).runId;
          await q(storage).transact(closed, async (tx) => tx.close('Cancelled'));
          expect(await q(storage).nextVisibleAt()).toEqual(new Date(start + 20_000));
        },
      },
      {
        id: 'queue.take.respects-runtime-claims',
        title:
          'take leaves a due row alone while a claim made through the runtime store lives, forever when the claim is permanent, and once its step finished',
        requires: ['queue', 'runtime'],
        run: async ({ storage, clock }) => {
          const runtime = need(storage.runtime, 'runtime');
          const { runId } = await q(storage).startRun(
            trigger({ entrySteps: ['leased', 'permanent', 'done'] }),
          );
          expect(await runtime.tryClaimStep(runId, 'leased', { owner: 'legacy', durationMs: 5_000 })).toBe(
            true,
          );
          expect(await runtime.tryClaimStep(runId, 'permanent')).toBe(true);
          expect(await runtime.tryClaimStep(runId, 'done', { owner: 'legacy', durationMs: 1_000 })).toBe(
            true,
          );
          await runtime.recordSkippedStep(runId, 'done', 'Work', 'handled elsewhere');
          expect(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 })).toEqual([]);
          // Taking one named row (where offered) answers the same: held, held forever, or finished.
          clock.advance(1_000);
          const takeStep = q(storage).takeStep?.bind(q(storage));
          for (const stepKey of takeStep ? ['leased', 'permanent', 'done'] : [])
            expect(await takeStep!({ runId, stepKey, owner: 'w', leaseMs: 1_000 })).toEqual({ kind: 'busy' });
          clock.advance(4_000);
          expect(keysOf(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/leased`,
          ]);
          clock.advance(86_400_000);
          const later = keysOf(await q(storage).take({ owner: 'w2', limit: 5, leaseMs: 1_000 }));
          expect(later).toEqual([`${runId}/leased`]);
        },
      },
      {
        id: 'queue.transact.unknown-run-is-empty',
        title: 'a transaction on an unknown run sees no run, steps, rows, claims, control or outputs',
        requires: ['queue'],
        run: async ({ storage }) => {
          const seen = await q(storage).transact(uuid(), async (tx) => ({
            status: tx.runStatus,
            steps: tx.steps.size,
            queue: tx.queue.size,
            claim: tx.claim('a'),
            control: tx.control,
            output: await tx.readOutput('a'),
            inFlight: tx.hasWorkInFlight(),
          }));
          expect(seen).toEqual({
            status: null,
            steps: 0,
            queue: 0,
            claim: undefined,
            control: null,
            output: null,
            inFlight: false,
          });
        },
      },
      {
        id: 'race.queue.take-skips-run-in-transaction',
        title:
          'a taker on another connection skips the rows of a run whose transaction is open, without waiting for it',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances }) => {
          const [owner, taker] = await instances(2);
          const { runId } = await q(owner!).startRun(trigger({ entrySteps: ['a'] }));
          const during = await q(owner!).transact(runId, async () =>
            q(taker!).take({ owner: 'other', limit: 5, leaseMs: 1_000 }),
          );
          expect(during).toEqual([]);
          expect(keysOf(await q(taker!).take({ owner: 'other', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/a`,
          ]);
        },
      },
      {
        id: 'queue.listen.wakes-consumers',
        title:
          'listen (where offered) calls back when a trigger queues work nobody took, and stops after unsubscribing',
        requires: ['queue'],
        run: async ({ storage, skip }) => {
          const queue = q(storage);
          if (!queue.listen) skip('the backend offers no listen (consumers poll)');
          let calls = 0;
          const unsubscribe = await queue.listen!(() => {
            calls++;
          });
          const called = async () => {
            const deadline = Date.now() + 5_000;
            while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
            return calls;
          };
          const { runId } = await queue.startRun(trigger({ entrySteps: ['a'] }));
          expect(await called()).toBeGreaterThan(0);
          // A transaction queuing due work nobody took wakes consumers too.
          calls = 0;
          await queue.transact(runId, async (tx) => tx.enqueue('b'));
          expect(await called()).toBeGreaterThan(0);
          await unsubscribe();
          const before = calls;
          await queue.startRun(trigger({ entrySteps: ['a'] }));
          await new Promise((r) => setTimeout(r, 200));
          expect(calls).toBe(before);
        },
      },
    ],
  },
  {
    name: 'FlowStepQueueStore: every kind of transaction write',
    cases: [
      {
        id: 'queue.start-step.attempts-numbered',
        title:
          'startStep refuses an unclaimed step or unknown run; a requeued step started again gets attempt 2; no event unless one is given',
        requires: ['queue', 'events'],
        run: async ({ storage }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a'], events: [] }));
          const start = (owner: string, r = runId) =>
            q(storage).startStep({ runId: r, stepKey: 'a', owner, stepType: 'Work', inputJson: null });
          expect(await start('me')).toBe(false);
          expect(await start('me', uuid())).toBe(false);
          await q(storage).take({ owner: 'me', limit: 1, leaseMs: 1_000 });
          expect(await start('me')).toBe(true);
          await q(storage).transact(runId, async (tx) => {
            tx.finish(
              'a',
              { status: 'Failed', outputJson: null, errorMessage: 'boom', owner: 'me' },
              { kind: 'requeue', attempt: 2, visibleAt: tx.control!.createdAt },
            );
          });
          const [again] = await q(storage).take({ owner: 'me2', limit: 1, leaseMs: 1_000 });
          expect(again).toMatchObject({ stepKey: 'a', attempt: 2 });
          expect(await start('me2')).toBe(true);
          const step = (await storage.runs.getRunDetail(runId))!.steps![0]!;
          expect(step.status).toBe('Running');
          expect(step.attemptCount).toBe(2);
          expect(step.attempts!.map((a) => [a.attempt, a.status, a.errorMessage])).toEqual([
            [1, 'Failed', 'boom'],
            [2, 'Running', null],
          ]);
          expect(await storage.events!.getRunEvents(runId)).toEqual([]);
        },
      },
      {
        id: 'queue.transact.start-with-take',
        title:
          'enqueue with takeFor and start writes the Running row and attempt in the transaction; the step is not taken again while leased',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: [] }));
          const taken = await q(storage).transact(runId, async (tx) => {
            tx.enqueue('s', {
              takeFor: { owner: 'me', leaseMs: 5_000 },
              start: { stepType: 'Work', inputJson: '{"x":1}' },
            });
            return tx.taken;
          });
          expect(taken).toMatchObject([{ stepKey: 's', owner: 'me', started: true, attempt: 1 }]);
          const step = (await storage.runs.getRunDetail(runId))!.steps![0]!;
          expect(step).toMatchObject({
            stepKey: 's',
            stepType: 'Work',
            status: 'Running',
            inputJson: '{"x":1}',
          });
          expect(step.attempts!.map((a) => [a.attempt, a.status])).toEqual([[1, 'Running']]);
          expect(await q(storage).take({ owner: 'other', limit: 5, leaseMs: 1_000 })).toEqual([]);
          clock.advance(5_000);
          expect(keysOf(await q(storage).take({ owner: 'other', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/s`,
          ]);
        },
      },
      {
        id: 'queue.transact.skip',
        title:
          'skip writes a Skipped row and attempt with reason and trace, takes the step out of the queue for good, and is refused the second time',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a'] }));
          await q(storage).transact(runId, async (tx) => {
            expect(tx.skip('a', { stepType: 'Work', reason: 'not today', traceJson: '{"when":false}' })).toBe(
              true,
            );
          });
          const step = (await storage.runs.getRunDetail(runId))!.steps![0]!;
          expect(step).toMatchObject({
            stepKey: 'a',
            status: 'Skipped',
            errorMessage: 'not today',
            evaluationTraceJson: '{"when":false}',
            attemptCount: 1,
          });
          expect(step.attempts!.map((a) => [a.attempt, a.status, a.errorMessage])).toEqual([
            [1, 'Skipped', 'not today'],
          ]);
          await q(storage).transact(runId, async (tx) => {
            expect(tx.claim('a')).toEqual({ owner: '', leaseExpiresAt: null });
            expect(tx.queue.get('a')?.visibleAt).toBeNull();
            expect(tx.skip('a', { stepType: 'Work', reason: 'again' })).toBe(false);
          });
          clock.advance(86_400_000);
          expect(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 })).toEqual([]);
          expect(await q(storage).nextVisibleAt()).toBeNull();
        },
      },
      {
        id: 'queue.transact.retry-reopens',
        title:
          'retry of a failed step in a closed run reopens the run, resets the step row and queues attempt 1 due now',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          await q(storage).transact(runId, async (tx) => {
            tx.finish(
              'a',
              { status: 'Failed', outputJson: '"partial"', errorMessage: 'boom', owner: 'me' },
              { kind: 'done' },
            );
            tx.close('Failed');
          });
          expect((await storage.runs.getRunDetail(runId))!.completedAt).not.toBeNull();
          clock.advance(1_000);
          await q(storage).transact(runId, async (tx) => {
            tx.retry('a');
          });
          const run = (await storage.runs.getRunDetail(runId))!;
          expect(run.status).toBe('Running');
          expect(run.completedAt).toBeNull();
          expect(run.steps![0]).toMatchObject({
            status: 'Running',
            outputJson: null,
            errorMessage: null,
            completedAt: null,
          });
          expect(run.steps![0]!.startedAt.getTime()).toBe(clock.now().getTime());
          const [again] = await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 });
          expect(again).toMatchObject({ stepKey: 'a', attempt: 1 });
        },
      },
      {
        id: 'queue.transact.timeout-latched-once',
        title:
          'markTimedOut latches timeout, cancel flag and reason once (a later one changes nothing), creating the control row when missing',
        requires: ['queue', 'control', 'events'],
        run: async ({ storage, clock }) => {
          const control = need(storage.control, 'control');
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a'], events: [] }));
          // A transaction that does not time the run out leaves the control row alone; its events
          // are stored in order, with their messages.
          await q(storage).transact(runId, async (tx) => {
            tx.event({ type: 'first', stepKey: 'a', message: 'one' });
            tx.event({ type: 'second', message: null });
          });
          expect((await control.getRunControl(runId))!).toMatchObject({
            timedOutAt: null,
            cancelRequested: false,
          });
          expect(
            (await need(storage.events, 'events').getRunEvents(runId)).map((e) => [
              e.type,
              e.stepKey,
              e.message,
            ]),
          ).toEqual([
            ['first', 'a', 'one'],
            ['second', null, null],
          ]);
          const [one, two] = await storage.events!.getRunEvents(runId);
          expect(two!.sequence).toBeGreaterThan(one!.sequence);
          await q(storage).transact(runId, async (tx) => {
            tx.markTimedOut('deadline passed');
            expect(tx.control).toMatchObject({ cancelRequested: true, cancelReason: 'deadline passed' });
          });
          const latched = (await control.getRunControl(runId))!;
          expect(latched).toMatchObject({ cancelRequested: true, cancelReason: 'deadline passed' });
          expect(latched.timedOutAt?.getTime()).toBe(clock.now().getTime());
          expect(latched.cancelRequestedAt?.getTime()).toBe(clock.now().getTime());
          clock.advance(1_000);
          await q(storage).transact(runId, async (tx) => tx.markTimedOut('second'));
          expect(await control.getRunControl(runId)).toEqual(latched);

          // A run started without a control row (the older run-store path) gets one.
          const bare = uuid();
          const bareFlow = uuid();
          await storage.runs.startRun({
            runId: bare,
            flowId: bareFlow,
            flowName: 'Bare',
            triggerKey: 'manual',
            triggerDataJson: null,
            jobId: null,
            sourceRunId: null,
          });
          await q(storage).transact(bare, async (tx) => tx.markTimedOut('late'));
          expect(await control.getRunControl(bare)).toMatchObject({
            runId: bare,
            flowId: bareFlow,
            triggerKey: '',
            cancelRequested: true,
            cancelReason: 'late',
          });
          expect((await control.getRunControl(bare))!.timedOutAt?.getTime()).toBe(clock.now().getTime());
        },
      },
      {
        id: 'queue.transact.requeue-updates-row',
        title:
          'a requeue moves the existing row to its new attempt and due time and drops the claim; a reschedule keeps the attempt',
        requires: ['queue', 'runtime'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          const at = new Date(clock.now().getTime() + 2_000);
          await q(storage).transact(runId, async (tx) => {
            expect(tx.claim('a')).toEqual({
              owner: 'me',
              leaseExpiresAt: new Date(clock.now().getTime() + 10_000),
            });
            tx.finish(
              'a',
              { status: 'Failed', outputJson: null, errorMessage: 'x', owner: 'me' },
              { kind: 'requeue', attempt: 4, visibleAt: at },
            );
          });
          expect(await need(storage.runtime, 'runtime').getStepClaim(runId, 'a')).toBeNull();
          await q(storage).transact(runId, async (tx) => {
            expect(tx.queue.get('a')).toEqual({ attempt: 4, visibleAt: at });
            expect(tx.claim('a')).toBeUndefined();
            expect(tx.reschedule('a', new Date(at.getTime() + 1_000))).toBe(true);
          });
          clock.advance(2_999);
          expect(await q(storage).take({ owner: 'w', limit: 1, leaseMs: 1_000 })).toEqual([]);
          clock.advance(1);
          expect(await q(storage).take({ owner: 'w', limit: 1, leaseMs: 1_000 })).toMatchObject([
            { stepKey: 'a', attempt: 4 },
          ]);
        },
      },
    ],
  },
];

import type { FlowStorage } from '@floworch/core';
import { expect } from 'vitest';
import type { CaseGroup } from '../case.js';
import { need } from '../case.js';
import { fulfilled, pick, race, uuid } from '../fixtures.js';
import { keysOf, q, startAndTake, trigger } from './queue-support.js';

/** Conformance cases of the durable step queue and its run transitions (capability `queue`). */
export const queueCases: readonly CaseGroup[] = [
  {
    name: 'FlowStepQueueStore: trigger transition',
    cases: [
      {
        id: 'queue.start-run.writes-everything',
        title:
          'startRun writes key, run, trigger data and headers, control row, events and entry rows together',
        requires: ['queue', 'control', 'events'],
        run: async ({ storage, clock }) => {
          const flowId = uuid();
          const timeoutAt = new Date(clock.now().getTime() + 60_000);
          const result = await q(storage).startRun(
            trigger({ flowId, idempotencyKey: 'Order-1', timeoutAt, entrySteps: ['a', 'b'] }),
          );
          expect(result.duplicate).toBe(false);
          expect(result.taken).toEqual([]);
          const run = await storage.runs.getRunDetail(result.runId);
          expect(run).toMatchObject({
            status: 'Running',
            flowId,
            triggerKey: 'manual',
            triggerDataJson: '{"order":42}',
          });
          expect(run!.triggerHeaders).toEqual({ 'x-trace': 'abc' });
          expect(await storage.outputs.getTriggerData(result.runId)).toEqual({ order: 42 });
          const control = await need(storage.control, 'control').getRunControl(result.runId);
          expect(control).toMatchObject({ idempotencyKey: 'Order-1', cancelRequested: false });
          expect(control!.timeoutAt?.getTime()).toBe(timeoutAt.getTime());
          expect(await storage.control!.findRunIdByIdempotencyKey(flowId, 'manual', ' order-1 ')).toBe(
            result.runId,
          );
          expect([...(await storage.runs.getDispatchedStepKeys(result.runId))].sort()).toEqual(['a', 'b']);
          const events = await need(storage.events, 'events').getRunEvents(result.runId);
          expect(events.map((e) => [e.type, e.stepKey])).toEqual([['run.started', '__run']]);
        },
      },
      {
        id: 'queue.start-run.duplicate-key-writes-nothing',
        title: 'a registered idempotency key (any case, trimmed) returns the first run and writes nothing',
        requires: ['queue', 'events'],
        run: async ({ storage }) => {
          const flowId = uuid();
          const first = await q(storage).startRun(trigger({ flowId, idempotencyKey: 'K-1' }));
          const secondId = uuid();
          const second = await q(storage).startRun(
            trigger({ flowId, runId: secondId, idempotencyKey: '  k-1 ', entrySteps: ['x'] }),
          );
          expect(second).toEqual({ runId: first.runId, duplicate: true, taken: [] });
          expect(await storage.runs.getRunDetail(secondId)).toBeNull();
          expect(await storage.outputs.getTriggerData(secondId)).toBeNull();
          expect(await storage.runs.getDispatchedStepKeys(secondId)).toEqual(new Set());
          expect(await storage.events!.getRunEvents(secondId)).toEqual([]);
          expect(await storage.runs.getDispatchedStepKeys(first.runId)).toEqual(new Set(['a']));
          // Another trigger key is another scope.
          const other = await q(storage).startRun(
            trigger({ flowId, idempotencyKey: 'K-1', run: { triggerKey: 'webhook' } as never }),
          );
          expect(other.duplicate).toBe(false);
        },
      },
      {
        id: 'queue.start-run.failure-writes-nothing',
        title: 'a trigger that fails part-way leaves no key, run, output or row; retrying it starts the run',
        requires: ['queue', 'control'],
        run: async ({ storage }) => {
          const flowId = uuid();
          const runId = uuid();
          // Event types are at most 128 characters: the write fails after the key and run rows.
          const bad = trigger({
            flowId,
            runId,
            idempotencyKey: 'retry-me',
            events: [{ type: 'x'.repeat(129), message: 'too long', stepKey: '__run' }],
          });
          await expect(q(storage).startRun(bad)).rejects.toThrow();
          expect(await storage.control!.findRunIdByIdempotencyKey(flowId, 'manual', 'retry-me')).toBeNull();
          expect(await storage.runs.getRunDetail(runId)).toBeNull();
          expect(await storage.outputs.getTriggerData(runId)).toBeNull();
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set());
          const retried = await q(storage).startRun(trigger({ flowId, runId, idempotencyKey: 'retry-me' }));
          expect(retried).toMatchObject({ runId, duplicate: false });
          expect((await storage.runs.getRunDetail(runId))?.status).toBe('Running');
        },
      },
      {
        id: 'queue.start-run.duplicate-run-id',
        title: 'an existing run id is refused with DUPLICATE_RUN and the existing run is untouched',
        requires: ['queue'],
        run: async ({ storage }) => {
          const runId = uuid();
          await q(storage).startRun(trigger({ runId, entrySteps: ['a'] }));
          await expect(q(storage).startRun(trigger({ runId, entrySteps: ['zzz'] }))).rejects.toMatchObject({
            code: 'DUPLICATE_RUN',
          });
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['a']));
        },
      },
      {
        id: 'queue.start-run.take-for',
        title: 'takeFor takes up to `limit` entry rows for the caller; the rest stay queued for anyone',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const result = await q(storage).startRun(
            trigger({ entrySteps: ['a', 'b'], takeFor: { owner: 'me', leaseMs: 5_000, limit: 1 } }),
          );
          expect(result.taken).toHaveLength(1);
          const [mine] = result.taken;
          expect(mine!.leaseExpiresAt.getTime()).toBe(clock.now().getTime() + 5_000);
          expect(mine!.attempt).toBe(1);
          const others = await q(storage).take({ owner: 'other', limit: 10, leaseMs: 5_000 });
          expect(others.map((s) => s.stepKey)).toEqual([mine!.stepKey === 'a' ? 'b' : 'a']);
          const claim = await need(storage.runtime, 'runtime').getStepClaim(result.runId, mine!.stepKey);
          expect(claim?.owner).toBe('me');
        },
      },
      {
        id: 'race.queue.start-run-same-key',
        title:
          'concurrent triggers with one idempotency key on independent connections start exactly one run',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const peers = await instances(3);
          const flowId = uuid();
          const results = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () => q(pick(peers, i)).startRun(trigger({ flowId, idempotencyKey: 'same' })),
              ),
            ),
          );
          expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
          expect(new Set(results.map((r) => r.runId)).size).toBe(1);
          expect((await peers[0]!.runs.getRunsPage({ flowId })).totalCount).toBe(1);
        },
      },
    ],
  },
  {
    name: 'FlowStepQueueStore: taking rows',
    cases: [
      {
        id: 'queue.take.invisible-until-due',
        title: 'a delayed row is invisible until its visible-at (inclusive), then taken with its attempt',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: [] }));
          await q(storage).transact(runId, async (tx) => {
            expect(
              tx.enqueue('later', { visibleAt: new Date(clock.now().getTime() + 1_000), attempt: 3 }),
            ).toBe(true);
          });
          expect(await q(storage).nextVisibleAt()).toEqual(new Date(clock.now().getTime() + 1_000));
          expect(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 })).toEqual([]);
          clock.advance(999);
          expect(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 })).toEqual([]);
          clock.advance(1);
          const taken = await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 });
          expect(taken).toHaveLength(1);
          expect(taken[0]).toMatchObject({ runId, stepKey: 'later', attempt: 3 });
        },
      },
      {
        id: 'queue.take.order-and-limit',
        title: 'take returns due rows earliest first and never more than the limit',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: [] }));
          const at = (ms: number) => new Date(clock.now().getTime() + ms);
          await q(storage).transact(runId, async (tx) => {
            tx.enqueue('third', { visibleAt: at(30) });
            tx.enqueue('first', { visibleAt: at(10) });
            tx.enqueue('second', { visibleAt: at(20) });
          });
          clock.advance(30);
          const two = await q(storage).take({ owner: 'w', limit: 2, leaseMs: 1_000 });
          expect(two.map((s) => s.stepKey)).toEqual(['first', 'second']);
          const rest = await q(storage).take({ owner: 'w', limit: 2, leaseMs: 1_000 });
          expect(rest.map((s) => s.stepKey)).toEqual(['third']);
        },
      },
      {
        id: 'queue.take.skips-finished-runs',
        title: 'rows of a run that is no longer Running are not taken',
        requires: ['queue'],
        run: async ({ storage }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a'] }));
          await q(storage).transact(runId, async (tx) => {
            expect(tx.close('Cancelled')).toBe(true);
          });
          expect(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 })).toEqual([]);
          expect(await q(storage).nextVisibleAt()).toBeNull();
        },
      },
      {
        id: 'queue.take.lapsed-lease-taken-over',
        title: 'a taken row reappears only when its lease lapses; the old owner is then fenced out',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'old');
          expect(await q(storage).take({ owner: 'new', limit: 1, leaseMs: 1_000 })).toEqual([]);
          clock.advance(9_999);
          expect(await q(storage).take({ owner: 'new', limit: 1, leaseMs: 1_000 })).toEqual([]);
          clock.advance(1);
          const taken = await q(storage).take({ owner: 'new', limit: 1, leaseMs: 1_000 });
          expect(keysOf(taken)).toEqual([`${runId}/a`]);
          expect((await q(storage).renew(runId, 'a', 'old', 1_000)).held).toBe(false);
          expect(
            await q(storage).startStep({
              runId,
              stepKey: 'a',
              owner: 'old',
              stepType: 'Work',
              inputJson: null,
            }),
          ).toBe(false);
          const fenced = await q(storage).transact(runId, async (tx) =>
            tx.finish(
              'a',
              { status: 'Succeeded', outputJson: '1', errorMessage: null, owner: 'old' },
              { kind: 'done' },
            ),
          );
          expect(fenced).toBe(false);
          expect((await storage.runs.getRunDetail(runId))!.steps![0]!.status).toBe('Running');
        },
      },
      {
        id: 'queue.renew.extends-and-reads-control',
        title: 'renew extends the lease of row and claim and returns the control row',
        requires: ['queue', 'control'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          clock.advance(9_000);
          await need(storage.control, 'control').requestCancel(runId, 'stop');
          const renewal = await q(storage).renew(runId, 'a', 'me', 10_000);
          expect(renewal.held).toBe(true);
          expect(renewal.control).toMatchObject({ cancelRequested: true, cancelReason: 'stop' });
          clock.advance(9_999);
          expect(await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 })).toEqual([]);
          clock.advance(1);
          expect(await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 })).toHaveLength(1);
        },
      },
      {
        id: 'queue.release.hands-back-at-once',
        title: 'release by the owner makes the row due at once for anyone; by another owner it does nothing',
        requires: ['queue'],
        run: async ({ storage }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          expect(await q(storage).release(runId, 'a', 'someone-else')).toBe(false);
          expect(await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 })).toEqual([]);
          expect(await q(storage).release(runId, 'a', 'me')).toBe(true);
          const taken = await q(storage).take({ owner: 'other', limit: 1, leaseMs: 1_000 });
          expect(keysOf(taken)).toEqual([`${runId}/a`]);
        },
      },
      {
        id: 'queue.release.finished-step-stays-done',
        title: 'a late hand-back of a step that already finished changes nothing: it is never taken again',
        requires: ['queue', 'runtime'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          await q(storage).transact(runId, async (tx) => {
            tx.finish(
              'a',
              { status: 'Succeeded', outputJson: '1', errorMessage: null, owner: 'me' },
              { kind: 'done' },
            );
          });
          expect(await q(storage).release(runId, 'a', 'me')).toBe(false);
          expect((await need(storage.runtime, 'runtime').getStepClaim(runId, 'a'))?.owner).toBe('me');
          clock.advance(60_000);
          expect(await q(storage).take({ owner: 'other', limit: 5, leaseMs: 1_000 })).toEqual([]);
        },
      },
      {
        id: 'queue.wake.parked-row',
        title: 'wake makes a requeued row due now; a row someone holds is not woken',
        requires: ['queue'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a', 'b'], 'me');
          expect(await q(storage).wake(runId, 'b')).toBe(false);
          await q(storage).transact(runId, async (tx) => {
            const later = new Date(clock.now().getTime() + 86_400_000);
            tx.finish(
              'a',
              { status: 'Pending', outputJson: null, errorMessage: null, owner: 'me' },
              { kind: 'requeue', visibleAt: later, attempt: 1 },
            );
          });
          expect(await q(storage).take({ owner: 'other', limit: 5, leaseMs: 1_000 })).toEqual([]);
          expect(await q(storage).wake(runId, 'a')).toBe(true);
          expect(keysOf(await q(storage).take({ owner: 'other', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/a`,
          ]);
          expect(await q(storage).wake(runId, 'missing')).toBe(false);
        },
      },
      {
        id: 'queue.start-step.fenced',
        title: 'startStep writes attempt, Running row and event only for the claim owner',
        requires: ['queue', 'events'],
        run: async ({ storage }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a'], events: [] }));
          const [taken] = await q(storage).take({ owner: 'me', limit: 1, leaseMs: 1_000 });
          const event = { type: 'step.started', message: 'go', stepKey: 'a' };
          expect(
            await q(storage).startStep({
              runId,
              stepKey: 'a',
              owner: 'x',
              stepType: 'Work',
              inputJson: null,
              event,
            }),
          ).toBe(false);
          expect(await storage.runs.getRunDetail(runId).then((r) => r!.steps)).toEqual([]);
          expect(
            await q(storage).startStep({
              runId,
              stepKey: taken!.stepKey,
              owner: 'me',
              stepType: 'Work',
              inputJson: '{"n":1}',
              event,
            }),
          ).toBe(true);
          const step = (await storage.runs.getRunDetail(runId))!.steps![0]!;
          expect(step).toMatchObject({
            stepKey: 'a',
            status: 'Running',
            inputJson: '{"n":1}',
            attemptCount: 1,
          });
          expect((await storage.events!.getRunEvents(runId)).map((e) => [e.type, e.stepKey])).toEqual([
            ['step.started', 'a'],
          ]);
        },
      },
      {
        id: 'race.queue.take-exclusive',
        title: 'many takers on independent connections: every due row is taken exactly once',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const peers = await instances(3);
          const keys = Array.from({ length: 24 }, (_, i) => `s${i}`);
          await q(peers[0]!).startRun(trigger({ entrySteps: keys }));
          const batches = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () =>
                  q(pick(peers, i)).take({ owner: `w${i}`, limit: 1 + (i % 3), leaseMs: 10_000 }),
              ),
            ),
          );
          const taken = batches.flatMap(keysOf);
          expect(taken).toHaveLength(keys.length);
          expect(new Set(taken).size).toBe(keys.length);
        },
      },
      {
        id: 'race.queue.takeover-exclusive',
        title: 'a row whose lease lapsed is taken over by exactly one of many concurrent takers',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, raceWidth, clock }) => {
          const peers = await instances(3);
          const runId = await startAndTake(peers[0]!, ['a'], 'crashed');
          clock.advance(10_000);
          const batches = fulfilled(
            await race(
              Array.from(
                { length: raceWidth },
                (_, i) => () => q(pick(peers, i)).take({ owner: `w${i}`, limit: 1, leaseMs: 10_000 }),
              ),
            ),
          );
          expect(batches.flatMap(keysOf)).toEqual([`${runId}/a`]);
        },
      },
      {
        id: 'queue.rows-survive-reopen',
        title: 'queued and delayed rows survive closing the store and are taken by a new instance',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, clock }) => {
          const [first] = await instances(0);
          const { runId } = await q(first!).startRun(trigger({ entrySteps: ['now'] }));
          await q(first!).transact(runId, async (tx) => {
            tx.enqueue('later', { visibleAt: new Date(clock.now().getTime() + 60_000) });
          });
          await first!.close();
          const [, reopened] = await instances(1);
          expect(keysOf(await q(reopened!).take({ owner: 'w', limit: 5, leaseMs: 600_000 }))).toEqual([
            `${runId}/now`,
          ]);
          clock.advance(60_000);
          expect(keysOf(await q(reopened!).take({ owner: 'w', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/later`,
          ]);
        },
      },
    ],
  },
  {
    name: 'FlowStepQueueStore: run transactions',
    cases: [
      {
        id: 'queue.transact.rollback-on-error',
        title: 'a transaction whose work throws writes nothing',
        requires: ['queue', 'events'],
        run: async ({ storage }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          const before = await storage.events!.getRunEvents(runId);
          await expect(
            q(storage).transact(runId, async (tx) => {
              tx.finish(
                'a',
                { status: 'Succeeded', outputJson: '1', errorMessage: null, owner: 'me' },
                { kind: 'done' },
              );
              tx.enqueue('b');
              tx.saveOutput('a', 1);
              tx.event({ type: 'step.completed', message: 'done', stepKey: 'a' });
              tx.close('Succeeded');
              throw new Error('planner failed');
            }),
          ).rejects.toThrow('planner failed');
          const run = await storage.runs.getRunDetail(runId);
          expect(run!.status).toBe('Running');
          expect(run!.steps![0]!.status).toBe('Running');
          expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set(['a']));
          expect(await storage.outputs.getStepOutput(runId, 'a')).toBeNull();
          expect(await storage.events!.getRunEvents(runId)).toEqual(before);
        },
      },
      {
        id: 'queue.transact.finish-requeue',
        title:
          'a requeued attempt releases the claim and comes back at its time with the next attempt number',
        requires: ['queue', 'runtime'],
        run: async ({ storage, clock }) => {
          const runId = await startAndTake(storage, ['a'], 'me');
          const ok = await q(storage).transact(runId, async (tx) =>
            tx.finish(
              'a',
              { status: 'Pending', outputJson: null, errorMessage: 'retrying', owner: 'me' },
              { kind: 'requeue', visibleAt: new Date(clock.now().getTime() + 500), attempt: 2 },
            ),
          );
          expect(ok).toBe(true);
          expect(await need(storage.runtime, 'runtime').getStepClaim(runId, 'a')).toBeNull();
          expect(await q(storage).take({ owner: 'w', limit: 1, leaseMs: 1_000 })).toEqual([]);
          clock.advance(500);
          const [again] = await q(storage).take({ owner: 'w', limit: 1, leaseMs: 1_000 });
          expect(again).toMatchObject({ runId, stepKey: 'a', attempt: 2 });
          expect((await storage.runs.getRunDetail(runId))!.steps![0]).toMatchObject({
            status: 'Pending',
            errorMessage: 'retrying',
          });
        },
      },
      {
        id: 'queue.transact.sees-committed-state',
        title:
          'a transaction reads statuses, rows, claims and control as committed before it, plus its own writes',
        requires: ['queue', 'control'],
        run: async ({ storage }) => {
          const runId = await startAndTake(storage, ['a', 'b'], 'me');
          await need(storage.control, 'control').requestCancel(runId, 'why');
          await q(storage).transact(runId, async (tx) => {
            expect(tx.runStatus).toBe('Running');
            expect(tx.steps.get('a')).toBe('Running');
            expect(tx.holds('a', 'me')).toBe(true);
            expect(tx.control?.cancelRequested).toBe(true);
            tx.finish(
              'a',
              { status: 'Succeeded', outputJson: '7', errorMessage: null, owner: 'me' },
              { kind: 'done' },
            );
            tx.saveOutput('a', 7);
            expect(tx.steps.get('a')).toBe('Succeeded');
            expect(await tx.readOutput('a')).toBe(7);
            expect(tx.hasWorkInFlight()).toBe(true); // b still runs
          });
          await q(storage).transact(runId, async (tx) => {
            expect(tx.steps.get('a')).toBe('Succeeded');
            expect(tx.queue.get('a')?.visibleAt).toBeNull();
            expect(await tx.readOutput('a')).toBe(7);
          });
          expect(await q(storage).transact(uuid(), async (tx) => tx.runStatus)).toBeNull();
        },
      },
      {
        id: 'race.queue.join-queued-once-run-closed-once',
        title:
          'parallel branches completing together on independent connections: the join is queued exactly once and the run closed exactly once, after it',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, raceWidth }) => {
          const peers = await instances(3);
          const branches = Array.from({ length: raceWidth }, (_, i) => `b${i}`);
          const { runId } = await q(peers[0]!).startRun(trigger({ entrySteps: branches }));
          const owners = new Map<string, string>();
          for (let i = 0; owners.size < branches.length; i++) {
            const owner = `w${i}`;
            for (const step of await q(peers[0]!).take({ owner, limit: 8, leaseMs: 60_000 })) {
              owners.set(step.stepKey, owner);
              await q(peers[0]!).startStep({
                runId,
                stepKey: step.stepKey,
                owner,
                stepType: 'Work',
                inputJson: null,
              });
            }
          }
          // Each completion plans on what it sees: the join is ready once every branch finished.
          const complete = (storage: FlowStorage, stepKey: string, owner: string) =>
            q(storage).transact(runId, async (tx) => {
              tx.finish(
                stepKey,
                { status: 'Succeeded', outputJson: null, errorMessage: null, owner },
                { kind: 'done' },
              );
              const allDone = branches.every((b) => tx.steps.get(b) === 'Succeeded');
              const queued = allDone && tx.enqueue('join');
              const closed = !tx.hasWorkInFlight() && tx.close('Succeeded');
              return { queued, closed };
            });
          const results = fulfilled(
            await race(branches.map((b, i) => () => complete(pick(peers, i), b, owners.get(b)!))),
          );
          expect(results.filter((r) => r.queued)).toHaveLength(1);
          expect(results.filter((r) => r.closed)).toHaveLength(0);
          expect((await peers[1]!.runs.getRunDetail(runId))!.status).toBe('Running');
          const [join] = await q(peers[1]!).take({ owner: 'j', limit: 5, leaseMs: 60_000 });
          expect(join!.stepKey).toBe('join');
          await q(peers[1]!).startStep({
            runId,
            stepKey: 'join',
            owner: 'j',
            stepType: 'Work',
            inputJson: null,
          });
          const closes = fulfilled(
            await race<boolean>([
              () => complete(peers[1]!, 'join', 'j').then((r) => r.closed),
              ...peers.map(
                (p) => () => q(p).transact(runId, async (tx) => !tx.hasWorkInFlight() && tx.close('Failed')),
              ),
            ]),
          );
          const closedBy = closes;
          expect(closedBy.filter(Boolean)).toHaveLength(1);
          const run = await peers[2]!.runs.getRunDetail(runId);
          expect(run!.steps!.find((s) => s.stepKey === 'join')?.status).toBe('Succeeded');
          expect(['Succeeded', 'Failed']).toContain(run!.status);
        },
      },
      {
        id: 'race.queue.detail-is-one-snapshot',
        title:
          'getRunDetail read while completions commit on other connections never shows a closed run with a step still running',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances }) => {
          const [writer, reader] = await instances(2);
          const keys = ['a', 'b', 'c'];
          const runs = 60;
          const torn: string[] = [];
          for (let i = 0; i < runs; i++) {
            const owner = `w${i}`;
            const { runId } = await q(writer!).startRun(trigger({ entrySteps: keys }));
            for (const step of await q(writer!).take({ owner, limit: keys.length, leaseMs: 60_000 })) {
              await q(writer!).startStep({
                runId,
                stepKey: step.stepKey,
                owner,
                stepType: 'Work',
                inputJson: null,
              });
            }
            // The reader polls as a dashboard or `awaitRun` would while the run closes.
            let closed = false;
            const reading = (async () => {
              for (;;) {
                const lastRead = closed;
                const run = (await reader!.runs.getRunDetail(runId))!;
                const running = run.steps!.filter((s) => s.status === 'Running').map((s) => s.stepKey);
                if (run.status !== 'Running' && running.length > 0)
                  torn.push(`${runId}: run ${run.status} with ${running.join(', ')} still Running`);
                if (run.status !== 'Running' || lastRead) return;
                // Yield a macrotask: a store answering synchronously would otherwise starve the writer.
                await new Promise((resolve) => setImmediate(resolve));
              }
            })();
            await new Promise((resolve) => setTimeout(resolve, 1));
            try {
              await q(writer!).transact(runId, async (tx) => {
                for (const stepKey of keys)
                  tx.finish(
                    stepKey,
                    { status: 'Succeeded', outputJson: null, errorMessage: null, owner },
                    { kind: 'done' },
                  );
                tx.close('Succeeded');
              });
            } finally {
              closed = true;
              await reading;
            }
          }
          expect(torn).toEqual([]);
        },
      },
    ],
  },
];

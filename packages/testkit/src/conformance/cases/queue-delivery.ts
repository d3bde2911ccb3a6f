import type { FlowStorage } from '@floworch/core';
import type {
  ListDueRequest,
  QueuedStep,
  TakenStep,
  TakeStepRequest,
  TakeStepResult,
} from '@floworch/core/backend';
import { expect } from 'vitest';
import type { CaseGroup } from '../case.js';
import { need } from '../case.js';
import { fulfilled, pick, race, uuid } from '../fixtures.js';
import { keysOf, q, trigger } from './queue-support.js';

/** The optional `takeStep`, or a visible skip when the backend has none. */
function takeStepOf(
  storage: FlowStorage,
  skip: (reason: string) => never,
): (request: TakeStepRequest) => Promise<TakeStepResult> {
  const queue = q(storage);
  if (!queue.takeStep) skip('queue.takeStep is not implemented (optional: job-system runtimes)');
  return (request) => queue.takeStep!(request);
}

/** The optional `listDue`, or a visible skip when the backend has none. */
function listDueOf(
  storage: FlowStorage,
  skip: (reason: string) => never,
): (request: ListDueRequest) => Promise<QueuedStep[]> {
  const queue = q(storage);
  if (!queue.listDue) skip('queue.listDue is not implemented (optional: job-system runtimes)');
  return (request) => queue.listDue!(request);
}

/**
 * Conformance cases of the queue methods a job-system runtime needs (`takeStep`, `listDue`, job
 * ids on starts). The two methods are optional: a backend without them reports these cases skipped.
 */
export const queueDeliveryCases: readonly CaseGroup[] = [
  {
    name: 'FlowStepQueueStore: delivery by a job system (takeStep, listDue, job ids)',
    cases: [
      {
        id: 'queue.take-step.claims-the-named-row',
        title:
          'takeStep claims exactly the named due row for the owner (lease, attempt, control); then it is busy for everyone else',
        requires: ['queue', 'runtime'],
        run: async ({ storage, clock, skip }) => {
          const takeStep = takeStepOf(storage, skip);
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a', 'b'] }));
          const due = clock.now();
          clock.advance(5);
          const result = await takeStep({ runId, stepKey: 'b', owner: 'me', leaseMs: 2_000 });
          expect(result.kind).toBe('taken');
          const step = (result as Extract<TakeStepResult, { kind: 'taken' }>).step;
          expect(step).toMatchObject({ runId, stepKey: 'b', owner: 'me', attempt: 1 });
          expect(step.visibleAt.getTime()).toBe(due.getTime());
          expect(step.leaseExpiresAt.getTime()).toBe(clock.now().getTime() + 2_000);
          expect(step.control).toMatchObject({ runId, cancelRequested: false });
          expect((await need(storage.runtime, 'runtime').getStepClaim(runId, 'b'))?.owner).toBe('me');
          expect(await takeStep({ runId, stepKey: 'b', owner: 'other', leaseMs: 2_000 })).toEqual({
            kind: 'busy',
          });
          // take sees only the other row; the taken one reappears when its lease lapses.
          expect(keysOf(await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 }))).toEqual([
            `${runId}/a`,
          ]);
          clock.advance(2_000);
          const over = await takeStep({ runId, stepKey: 'b', owner: 'next', leaseMs: 2_000 });
          expect(over.kind).toBe('taken');
          expect((await q(storage).renew(runId, 'b', 'me', 1_000)).held).toBe(false);
        },
      },
      {
        id: 'queue.take-step.later-and-gone',
        title:
          'takeStep of a row not due yet reports later (attempt, visible-at) and takes nothing; done rows, unknown steps and runs, and closed runs are gone',
        requires: ['queue'],
        run: async ({ storage, clock, skip }) => {
          const takeStep = takeStepOf(storage, skip);
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a'] }));
          const later = new Date(clock.now().getTime() + 1_000);
          await q(storage).transact(runId, async (tx) => {
            tx.enqueue('delayed', { visibleAt: later, attempt: 2 });
          });
          expect(await takeStep({ runId, stepKey: 'delayed', owner: 'me', leaseMs: 1_000 })).toEqual({
            kind: 'later',
            attempt: 2,
            visibleAt: later,
          });
          expect(await takeStep({ runId, stepKey: 'missing', owner: 'me', leaseMs: 1_000 })).toEqual({
            kind: 'gone',
          });
          expect(await takeStep({ runId: uuid(), stepKey: 'a', owner: 'me', leaseMs: 1_000 })).toEqual({
            kind: 'gone',
          });
          clock.advance(1_000);
          const taken = await takeStep({ runId, stepKey: 'delayed', owner: 'me', leaseMs: 1_000 });
          expect(taken).toMatchObject({ kind: 'taken', step: { stepKey: 'delayed', attempt: 2 } });
          expect(
            await q(storage).startStep({
              runId,
              stepKey: 'delayed',
              owner: 'me',
              stepType: 'Work',
              inputJson: null,
            }),
          ).toBe(true);
          await q(storage).transact(runId, async (tx) => {
            tx.finish(
              'delayed',
              { status: 'Succeeded', outputJson: null, errorMessage: null, owner: 'me' },
              { kind: 'done' },
            );
          });
          clock.advance(60_000);
          expect(await takeStep({ runId, stepKey: 'delayed', owner: 'x', leaseMs: 1_000 })).toEqual({
            kind: 'gone',
          });
          await q(storage).transact(runId, async (tx) => {
            tx.close('Cancelled');
          });
          expect(await takeStep({ runId, stepKey: 'a', owner: 'x', leaseMs: 1_000 })).toEqual({
            kind: 'gone',
          });
          await expect(takeStep({ runId, stepKey: 'a', owner: 'x', leaseMs: 0 })).rejects.toThrow();
        },
      },
      {
        id: 'queue.take-step.locked-run-not-waited-for',
        title:
          'takeStep of a row whose run is inside a transaction on another connection reports locked at once',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, skip }) => {
          const [writer, other] = await instances(2);
          const takeStep = takeStepOf(other!, skip);
          const { runId } = await q(writer!).startRun(trigger({ entrySteps: ['a'] }));
          let seen: TakeStepResult | undefined;
          await q(writer!).transact(runId, async (tx) => {
            tx.saveOutput('probe', 1);
            seen = await takeStep({ runId, stepKey: 'a', owner: 'me', leaseMs: 1_000 });
          });
          expect(seen).toEqual({ kind: 'locked' });
          expect((await takeStep({ runId, stepKey: 'a', owner: 'me', leaseMs: 1_000 })).kind).toBe('taken');
        },
      },
      {
        id: 'race.queue.take-step-exclusive',
        title:
          'many takeStep calls for one row (and takes) on independent connections: exactly one gets it, the rest are busy or locked',
        requires: ['queue'],
        needsPeers: true,
        run: async ({ instances, raceWidth, skip }) => {
          const peers = await instances(3);
          const steps = peers.map((p) => takeStepOf(p, skip));
          const { runId } = await q(peers[0]!).startRun(trigger({ entrySteps: ['a'] }));
          const results = fulfilled(
            await race<TakeStepResult | TakenStep[]>(
              Array.from({ length: raceWidth }, (_, i) =>
                i % 4 === 3
                  ? () => q(pick(peers, i)).take({ owner: `t${i}`, limit: 1, leaseMs: 10_000 })
                  : () => pick(steps, i)({ runId, stepKey: 'a', owner: `w${i}`, leaseMs: 10_000 }),
              ),
            ),
          );
          const winners = results.filter((r) => (Array.isArray(r) ? r.length > 0 : r.kind === 'taken'));
          expect(winners).toHaveLength(1);
          for (const r of results) {
            if (!Array.isArray(r)) expect(['taken', 'busy', 'locked']).toContain(r.kind);
          }
        },
      },
      {
        id: 'queue.list-due.reads-due-rows',
        title:
          'listDue lists queued rows of running runs due by the time, earliest first, within the limit — not live leases, done rows or closed runs; lapsed leases again',
        requires: ['queue'],
        run: async ({ storage, clock, skip }) => {
          const listDue = listDueOf(storage, skip);
          const at = (ms: number) => new Date(clock.now().getTime() + ms);
          const { runId } = await q(storage).startRun(trigger({ entrySteps: [] }));
          const closed = await q(storage).startRun(trigger({ entrySteps: ['x'] }));
          await q(storage).transact(closed.runId, async (tx) => {
            tx.close('Cancelled');
          });
          await q(storage).transact(runId, async (tx) => {
            tx.enqueue('second', { visibleAt: at(20), attempt: 3 });
            tx.enqueue('first', { visibleAt: at(10) });
            tx.enqueue('future', { visibleAt: at(10_000) });
            tx.enqueue('held', { visibleAt: at(0) });
          });
          const [held] = await q(storage).take({ owner: 'me', limit: 1, leaseMs: 1_000 });
          expect(held?.stepKey).toBe('held');
          clock.advance(20);
          const rows = await listDue({ dueBefore: clock.now(), limit: 10 });
          expect(rows.map((r) => [r.runId, r.stepKey, r.attempt])).toEqual([
            [runId, 'first', 1],
            [runId, 'second', 3],
          ]);
          expect(rows[0]!.flowId).toBe((await storage.runs.getRunDetail(runId))!.flowId);
          expect(rows[1]!.visibleAt.getTime()).toBe(at(0).getTime());
          expect((await listDue({ dueBefore: clock.now(), limit: 1 })).map((r) => r.stepKey)).toEqual([
            'first',
          ]);
          expect(await listDue({ dueBefore: at(-15), limit: 10 })).toEqual([]);
          // Listing claims nothing.
          expect(
            (await q(storage).take({ owner: 'w', limit: 5, leaseMs: 1_000 })).map((s) => s.stepKey),
          ).toEqual(['first', 'second']);
          clock.advance(1_000);
          expect((await listDue({ dueBefore: clock.now(), limit: 10 })).map((r) => r.stepKey)).toEqual([
            'held',
            'first',
            'second',
          ]);
        },
      },
      {
        id: 'queue.start-step.records-job-id',
        title: 'startStep with a job id records it on the new attempt and the step row; without one, none',
        requires: ['queue'],
        run: async ({ storage }) => {
          const { runId } = await q(storage).startRun(trigger({ entrySteps: ['a', 'b'] }));
          const taken = await q(storage).take({ owner: 'me', limit: 2, leaseMs: 1_000 });
          expect(taken).toHaveLength(2);
          const start = (stepKey: string, jobId?: string) =>
            q(storage).startStep({
              runId,
              stepKey,
              owner: 'me',
              stepType: 'Work',
              inputJson: null,
              ...(jobId ? { jobId } : {}),
            });
          expect(await start('a', 'job-a-1')).toBe(true);
          expect(await start('b')).toBe(true);
          const steps = (await storage.runs.getRunDetail(runId))!.steps!;
          const a = steps.find((s) => s.stepKey === 'a')!;
          expect(a.jobId).toBe('job-a-1');
          expect(a.attempts.map((x) => x.jobId)).toEqual(['job-a-1']);
          expect(steps.find((s) => s.stepKey === 'b')!.jobId).toBeNull();
        },
      },
    ],
  },
];

import type { FlowStorage } from '@floworch/core';
import { expect } from 'vitest';
import { type CaseGroup, need } from '../case.js';
import { finishStep, fulfilled, race, startRun, T0, uuid } from '../fixtures.js';

/** Creates a finished run with one row in every table that hangs off a run. */
async function seedFullRun(storage: FlowStorage, flowId: string, key: string): Promise<string> {
  const run = await startRun(storage, { flowId });
  await storage.runs.tryRecordDispatch(run.id, 'a');
  await storage.runtime?.tryClaimStep(run.id, 'a');
  await finishStep(storage, run.id, 'a', 'Succeeded', { outputJson: '1' });
  await storage.outputs.saveStepOutput(run.id, 'a', { ok: true });
  await storage.outputs.saveTriggerData(run.id, { key });
  await storage.outputs.recordEvent(run.id, { type: 'RunStarted' });
  await storage.control?.configureRun({ runId: run.id, flowId, triggerKey: 'manual', idempotencyKey: key });
  await storage.control?.tryRegisterIdempotencyKey(flowId, 'manual', key, run.id);
  await storage.signals?.registerWaiter(run.id, 'wait', 'approved', null);
  await storage.runs.completeRun(run.id, 'Succeeded');
  return run.id;
}

/** Asserts that nothing of `runId` can be read any more. */
async function expectGone(storage: FlowStorage, runId: string): Promise<void> {
  expect(await storage.runs.getRunDetail(runId)).toBeNull();
  expect(await storage.runs.getDispatchedStepKeys(runId)).toEqual(new Set());
  expect(await storage.outputs.getStepOutput(runId, 'a')).toBeNull();
  expect(await storage.outputs.getTriggerData(runId)).toBeNull();
  if (storage.events) expect(await storage.events.getRunEvents(runId)).toEqual([]);
  if (storage.runtime) {
    expect(await storage.runtime.getClaimedStepKeys(runId)).toEqual([]);
    expect((await storage.runtime.getStepStatuses(runId)).size).toBe(0);
  }
  if (storage.control) expect(await storage.control.getRunControl(runId)).toBeNull();
  if (storage.signals) expect(await storage.signals.getWaiter(runId, 'wait')).toBeNull();
}

/** Starts and finishes `count` runs at the current instant, each with one step and an output. */
async function seedFinishedRuns(storage: FlowStorage, count: number): Promise<number> {
  for (let i = 0; i < count; i++) {
    const run = await startRun(storage);
    await finishStep(storage, run.id, 'a', 'Succeeded');
    await storage.outputs.saveStepOutput(run.id, 'a', run.id);
    await storage.runs.completeRun(run.id, 'Succeeded');
  }
  return count;
}

/** Number of runs the store lists. */
async function countRuns(storage: FlowStorage): Promise<number> {
  return (await storage.runs.getRunsPage({ take: 0 })).totalCount;
}

/**
 * An `AbortSignal` that aborts itself with `reason` the second time a store checks it (reads
 * `aborted` or calls `throwIfAborted()`). Checks in one synchronous stretch count once, so a store
 * that looks twice before a batch is not penalised. The contract has the store check before the
 * first batch and between batches, so the abort lands right after the first batch, on any backend,
 * however fast or slow.
 */
function abortOnSecondCheck(reason: Error): AbortSignal {
  const controller = new AbortController();
  const signal = controller.signal;
  const realAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
  const realThrow = signal.throwIfAborted.bind(signal);
  let checks = 0;
  let inStretch = false;
  const check = () => {
    if (inStretch) return;
    inStretch = true;
    queueMicrotask(() => {
      inStretch = false;
    });
    checks++;
    if (checks === 2) controller.abort(reason);
  };
  Object.defineProperty(signal, 'aborted', {
    get: () => {
      check();
      return realAborted.call(signal) as boolean;
    },
  });
  Object.defineProperty(signal, 'throwIfAborted', {
    value: () => {
      check();
      realThrow();
    },
  });
  return signal;
}

/** Sweeps every run with `batchSize` and a signal aborted after the first batch. */
async function abortAfterFirstBatch(
  storage: FlowStorage,
  batchSize: number,
): Promise<{ error: unknown; reason: Error; remaining: string[] }> {
  const reason = new Error('shutting down');
  const error = await need(storage.retention, 'retention')
    .cleanup(new Date(T0 + 1), { batchSize, signal: abortOnSecondCheck(reason) })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  const remaining = (await storage.runs.getRunsPage({ take: 500 })).runs.map((r) => r.id);
  return { error, reason, remaining };
}

/** Retention sweep. */
export const retentionCases: CaseGroup[] = [
  {
    name: 'retention',
    cases: [
      {
        id: 'retention.deletes-everything-of-old-runs',
        title:
          'runs finished before the cutoff go with steps, outputs, events, claims, ledger, control, keys, waiters',
        requires: ['retention'],
        run: async ({ storage, clock }) => {
          const flowId = uuid();
          const runId = await seedFullRun(storage, flowId, 'order-1');
          clock.advance(60_000);
          const result = await need(storage.retention, 'retention').cleanup(new Date(T0 + 1));
          expect(result.runsDeleted).toBe(1);
          await expectGone(storage, runId);
          if (storage.control)
            expect(await storage.control.findRunIdByIdempotencyKey(flowId, 'manual', 'order-1')).toBeNull();
        },
      },
      {
        id: 'retention.keeps-recent-and-running',
        title: 'runs finished after the cutoff and running runs of any age keep all their rows',
        requires: ['retention'],
        run: async ({ storage, clock }) => {
          const old = await startRun(storage);
          await finishStep(storage, old.id, 'a', 'Running');
          await storage.outputs.saveStepOutput(old.id, 'a', 1);
          clock.advance(10_000);
          const recent = await seedFullRun(storage, uuid(), 'k');
          const result = await need(storage.retention, 'retention').cleanup(new Date(T0 + 5_000));
          expect(result.runsDeleted).toBe(0);
          expect((await storage.runs.getRunDetail(old.id))!.status).toBe('Running');
          expect(await storage.outputs.getStepOutput(old.id, 'a')).toBe(1);
          const kept = await storage.runs.getRunDetail(recent);
          expect(kept!.steps).toHaveLength(1);
          expect(await storage.outputs.getStepOutput(recent, 'a')).toEqual({ ok: true });
          expect(await storage.runs.getDispatchedStepKeys(recent)).toEqual(new Set(['a']));
          if (storage.signals) expect(await storage.signals.getWaiter(recent, 'wait')).not.toBeNull();
        },
      },
      {
        id: 'retention.cutoff-strict',
        title: 'a run completed exactly at the cutoff is kept; 1 ms later it goes',
        requires: ['retention'],
        run: async ({ storage }) => {
          const run = await startRun(storage);
          await storage.runs.completeRun(run.id, 'Failed');
          const retention = need(storage.retention, 'retention');
          expect((await retention.cleanup(new Date(T0))).runsDeleted).toBe(0);
          expect(await storage.runs.getRunDetail(run.id)).not.toBeNull();
          expect((await retention.cleanup(new Date(T0 + 1))).runsDeleted).toBe(1);
        },
      },
      {
        id: 'retention.idempotency-key-freed',
        title: 'the idempotency key of a deleted run can be registered again',
        requires: ['retention', 'control'],
        run: async ({ storage }) => {
          const flowId = uuid();
          await seedFullRun(storage, flowId, 'dup');
          await need(storage.retention, 'retention').cleanup(new Date(T0 + 1));
          const control = need(storage.control, 'control');
          expect(await control.tryRegisterIdempotencyKey(flowId, 'manual', 'dup', uuid())).toBe(true);
        },
      },
      {
        id: 'race.retention.concurrent-sweeps',
        title: 'two concurrent cleanups from different connections succeed and delete each run once',
        requires: ['retention'],
        needsPeers: true,
        run: async ({ instances }) => {
          const stores = await instances(1);
          const ids: string[] = [];
          for (let i = 0; i < 40; i++) {
            const run = await startRun(stores[0]!);
            await finishStep(stores[0]!, run.id, 'a', 'Succeeded');
            await stores[0]!.runs.completeRun(run.id, 'Succeeded');
            ids.push(run.id);
          }
          const cutoff = new Date(T0 + 1);
          const results = fulfilled(
            await race(
              stores.map((s) => () => need(s.retention, 'retention').cleanup(cutoff, { batchSize: 7 })),
            ),
          );
          expect(results.reduce((sum, r) => sum + r.runsDeleted, 0)).toBe(40);
          for (const id of ids) expect(await stores[0]!.runs.getRunDetail(id)).toBeNull();
        },
      },
      {
        id: 'retention.empty-noop',
        title: 'cleanup of an empty store deletes nothing and does not fail',
        requires: ['retention'],
        run: async ({ storage }) => {
          expect(await need(storage.retention, 'retention').cleanup(new Date(T0 + 1e9))).toEqual({
            runsDeleted: 0,
          });
        },
      },
      {
        id: 'retention.large-sweep-batched',
        title: 'a sweep of 1 200 runs with batch size 100 deletes all of them and reports the count',
        requires: ['retention'],
        run: async ({ storage }) => {
          for (let i = 0; i < 1200; i++) {
            const run = await startRun(storage);
            await storage.runs.completeRun(run.id, i % 2 === 0 ? 'Succeeded' : 'Failed');
          }
          const result = await need(storage.retention, 'retention').cleanup(new Date(T0 + 1), {
            batchSize: 100,
          });
          expect(result.runsDeleted).toBe(1200);
          expect((await storage.runs.getRunsPage({ take: 10 })).totalCount).toBe(0);
        },
      },
      {
        id: 'retention.abort-before-start',
        title: 'an already aborted signal rejects with its reason and deletes nothing',
        requires: ['retention'],
        run: async ({ storage }) => {
          const total = await seedFinishedRuns(storage, 5);
          const controller = new AbortController();
          const reason = new Error('shutting down');
          controller.abort(reason);
          await expect(
            need(storage.retention, 'retention').cleanup(new Date(T0 + 1), { signal: controller.signal }),
          ).rejects.toBe(reason);
          expect(await countRuns(storage)).toBe(total);
        },
      },
      {
        id: 'retention.abort-between-batches',
        title:
          'aborting during a sweep rejects with the reason after a whole batch: deleted runs stay deleted, the rest stay whole',
        requires: ['retention'],
        run: async ({ storage }) => {
          const total = await seedFinishedRuns(storage, 30);
          const { error, reason, remaining } = await abortAfterFirstBatch(storage, 10);
          expect(error).toBe(reason);
          // Exactly the first batch went; nothing deleted would fail here too.
          expect(remaining).toHaveLength(total - 10);
          for (const runId of remaining) {
            const detail = await storage.runs.getRunDetail(runId);
            expect(detail!.steps!.map((x) => x.attempts.length)).toEqual([1]);
            expect(await storage.outputs.getStepOutput(runId, 'a')).toBe(runId);
          }
        },
      },
      {
        id: 'retention.batch-size-honoured',
        title:
          'a sweep deletes batchSize runs per batch: an abort after the first leaves a multiple of it gone',
        requires: ['retention'],
        run: async ({ storage }) => {
          const total = await seedFinishedRuns(storage, 20);
          const { error, reason, remaining } = await abortAfterFirstBatch(storage, 7);
          expect(error).toBe(reason);
          expect(total - remaining.length).toBe(7);
        },
      },
      {
        id: 'retention.deletes-attempts',
        title: "a deleted run's attempts go too: a new run with the same id starts again at attempt 1",
        requires: ['retention'],
        run: async ({ storage, clock }) => {
          const runId = uuid();
          await startRun(storage, { runId });
          await finishStep(storage, runId, 'a', 'Failed');
          await finishStep(storage, runId, 'a', 'Succeeded');
          await storage.runs.completeRun(runId, 'Succeeded');
          clock.advance(1_000);
          expect((await need(storage.retention, 'retention').cleanup(new Date(T0 + 1))).runsDeleted).toBe(1);
          await startRun(storage, { runId });
          await finishStep(storage, runId, 'a', 'Succeeded');
          const [step] = (await storage.runs.getRunDetail(runId))!.steps!;
          expect(step!.attempts.map((a) => [a.attempt, a.status])).toEqual([[1, 'Succeeded']]);
        },
      },
      {
        id: 'retention.running-with-completed-at-kept',
        title: 'a Running run is kept even when it carries an old completedAt (e.g. re-opened by an admin)',
        requires: ['retention'],
        run: async ({ storage, clock }) => {
          const run = await startRun(storage);
          await storage.runs.completeRun(run.id, 'Running');
          clock.advance(60_000);
          const result = await need(storage.retention, 'retention').cleanup(new Date(T0 + 30_000));
          expect(result.runsDeleted).toBe(0);
          expect((await storage.runs.getRunDetail(run.id))?.status).toBe('Running');
        },
      },
    ],
  },
];

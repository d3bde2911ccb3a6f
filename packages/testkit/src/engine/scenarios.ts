import { randomUUID } from 'node:crypto';
import { createCronScheduler, type FlowDefinition, type FlowStorage, StepResults } from '@floworch/core';
import { expect } from 'vitest';
import { QUEUE_SCENARIOS } from './queue-scenarios.js';
import { type EngineScenario, newFlowId, sleep, statusesOf, waitFor, waitForRun } from './support.js';

const chain = (id: string, length = 3): FlowDefinition => ({
  id,
  name: 'Chain',
  steps: Object.fromEntries(
    Array.from({ length }, (_, i) => [
      `s${i}`,
      i === 0 ? { type: 'Work' } : { type: 'Work', runAfter: { [`s${i - 1}`]: ['Succeeded'] } },
    ]),
  ),
});

/** Starts a run by hand (as a crashed process would have left it), with control row and trigger data. */
async function seedRun(storage: FlowStorage, flowId: string): Promise<string> {
  const runId = randomUUID();
  await storage.runs.startRun({ runId, flowId, flowName: 'Seeded', triggerKey: 'manual' });
  await storage.outputs.saveTriggerData(runId, null);
  return runId;
}

/** Engine-level scenarios run through the real engine against a backend. */
export const ENGINE_SCENARIOS: readonly EngineScenario[] = [
  {
    id: 'engine.disabled-flow',
    title:
      'a disabled flow refuses triggers and writes nothing; a flow without a stored definition is enabled (EN1)',
    run: async ({ storage, engine }) => {
      const flow = chain(newFlowId(), 1);
      const { orchestrator } = await engine({ flows: [flow], handlers: { Work: () => 1 } });
      await orchestrator.setFlowEnabled(flow.id, false);
      expect(await orchestrator.trigger(flow.id)).toEqual({ runId: null, duplicate: false, disabled: true });
      expect((await storage.runs.getRunsPage()).totalCount).toBe(0);
      await storage.flows.delete(flow.id);
      const { runId } = await orchestrator.trigger(flow.id);
      expect((await waitForRun(storage, runId!)).status).toBe('Succeeded');
    },
  },
  {
    id: 'engine.idempotent-trigger',
    title:
      'the same idempotency key twice gives one run and one handler call; another key a second run (EN2)',
    run: async ({ storage, engine }) => {
      let calls = 0;
      const flow = chain(newFlowId(), 1);
      const { orchestrator } = await engine({ flows: [flow], handlers: { Work: () => ++calls } });
      const a = await orchestrator.trigger(flow.id, { idempotencyKey: 'order-7' });
      const b = await orchestrator.trigger(flow.id, { headers: { 'Idempotency-Key': 'ORDER-7' } });
      expect(b).toEqual({ runId: a.runId, duplicate: true, disabled: false });
      await waitForRun(storage, a.runId!);
      const c = await orchestrator.trigger(flow.id, { idempotencyKey: 'order-8' });
      await waitForRun(storage, c.runId!);
      expect(c.runId).not.toBe(a.runId);
      expect(calls).toBe(2);
    },
  },
  {
    id: 'engine.linear-chain-many',
    title: '50 runs of a 3-step chain all end Succeeded with 3 step rows (EN3)',
    run: async ({ storage, engine }) => {
      const flow = chain(newFlowId(), 3);
      const { orchestrator } = await engine({
        flows: [flow],
        concurrency: 8,
        handlers: { Work: ({ stepKey }) => stepKey },
      });
      const ids = await Promise.all(
        Array.from({ length: 50 }, async () => (await orchestrator.trigger(flow.id)).runId!),
      );
      for (const id of ids) {
        const run = await waitForRun(storage, id);
        expect(run.status).toBe('Succeeded');
        expect(run.steps).toHaveLength(3);
      }
    },
  },
  {
    id: 'engine.pending-repolls',
    title:
      'a Pending step re-polls (ledger and claim released each time) and finally succeeds; attempts counted (EN4)',
    run: async ({ storage, engine }) => {
      let polls = 0;
      const flow: FlowDefinition = { id: newFlowId(), name: 'Poll', steps: { poll: { type: 'Poll' } } };
      const { orchestrator } = await engine({
        flows: [flow],
        handlers: { Poll: () => (++polls < 4 ? StepResults.pending(5) : { ready: true }) },
      });
      const { runId } = await orchestrator.trigger(flow.id);
      const run = await waitForRun(storage, runId!);
      expect(run.status).toBe('Succeeded');
      expect(run.steps![0]!.attemptCount).toBe(4);
      expect(await storage.outputs.getStepOutput(runId!, 'poll')).toEqual({ ready: true });
    },
  },
  {
    id: 'engine.manual-retry',
    title:
      'three manual retries then success: 4 attempts, run Succeeded, cascade-skipped dependents re-run (EN5)',
    run: async ({ storage, engine }) => {
      let calls = 0;
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'Retry',
        steps: { a: { type: 'Flaky' }, b: { type: 'Work', runAfter: { a: ['Succeeded'] } } },
      };
      const { orchestrator } = await engine({
        flows: [flow],
        handlers: {
          Work: () => 'b',
          Flaky: () => (++calls < 4 ? StepResults.failed(`fail ${calls}`) : 'ok'),
        },
      });
      const { runId } = await orchestrator.trigger(flow.id);
      for (let i = 0; i < 3; i++) {
        expect((await waitForRun(storage, runId!)).status).toBe('Failed');
        await orchestrator.retryStep(runId!, 'a');
      }
      const run = await waitForRun(storage, runId!);
      expect(run.status).toBe('Succeeded');
      expect(statusesOf(run)).toEqual({ a: 'Succeeded', b: 'Succeeded' });
      expect(run.steps!.find((s) => s.stepKey === 'a')!.attemptCount).toBe(4);
    },
  },
  {
    id: 'engine.cancel-parked',
    title:
      "cancel while a step is parked: the step ends Skipped 'Run is Cancelled.' and the run Cancelled (EN6)",
    run: async ({ storage, engine }) => {
      const flow: FlowDefinition = { id: newFlowId(), name: 'Park', steps: { p: { type: 'Park' } } };
      const { orchestrator } = await engine({
        flows: [flow],
        handlers: { Park: () => StepResults.pending(20) },
      });
      const { runId } = await orchestrator.trigger(flow.id);
      await waitFor(
        async () => (await storage.runtime!.getStepStatuses(runId!)).get('p') === 'Pending',
        'step parked',
      );
      await orchestrator.cancelRun(runId!, 'no longer needed');
      const run = await waitForRun(storage, runId!);
      expect(run.status).toBe('Cancelled');
      expect(run.steps![0]).toMatchObject({ status: 'Skipped', errorMessage: 'Run is Cancelled.' });
    },
  },
  {
    id: 'engine.timeout-at-boundary',
    title: 'a run past its deadline dispatches nothing more and ends TimedOut (EN7)',
    run: async ({ storage, engine }) => {
      let secondRan = false;
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'Deadline',
        steps: { a: { type: 'Slow' }, b: { type: 'Work', runAfter: { a: ['Succeeded'] } } },
      };
      const { orchestrator } = await engine({
        flows: [flow],
        handlers: {
          Slow: async () => {
            await sleep(60);
            return 'late';
          },
          Work: () => {
            secondRan = true;
          },
        },
      });
      const { runId } = await orchestrator.trigger(flow.id, { timeoutMs: 20 });
      const run = await waitForRun(storage, runId!);
      expect(run.status).toBe('TimedOut');
      expect(secondRan).toBe(false);
      expect((await storage.control!.getRunControl(runId!))!.timedOutAt).not.toBeNull();
    },
  },
  {
    id: 'engine.parallel-recovery-once',
    title: 'two recovery passes in parallel over one orphaned ready step dispatch it once (EN8)',
    run: async ({ storage, engine }) => {
      let runs = 0;
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'Orphan',
        steps: { a: { type: 'Work' }, b: { type: 'Work', runAfter: { a: ['Succeeded'] } } },
      };
      const handlers = { Work: ({ stepKey }: { stepKey: string }) => (stepKey === 'b' ? ++runs : 'a') };
      const one = await engine({ flows: [flow], handlers });
      const two = await engine({ flows: [flow], handlers });
      const runId = await seedRun(storage, flow.id);
      await storage.runs.recordStepStart({ runId, stepKey: 'a', stepType: 'Work' });
      await storage.runs.recordStepComplete({ runId, stepKey: 'a', status: 'Succeeded', outputJson: '"a"' });
      await Promise.all([one.orchestrator.runMaintenance(), two.orchestrator.runMaintenance()]);
      const run = await waitForRun(storage, runId);
      expect(run.status).toBe('Succeeded');
      expect(runs).toBe(1);
    },
  },
  {
    id: 'engine.zombie-closed',
    title:
      'a Running run whose steps are all terminal is closed by recovery with the classifier status (EN9)',
    run: async ({ storage, engine }) => {
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'Zombie',
        steps: { a: { type: 'Work' }, b: { type: 'Work', runAfter: { a: ['Succeeded'] } } },
      };
      const { orchestrator } = await engine({ flows: [flow], handlers: { Work: () => 1 } });
      const runId = await seedRun(storage, flow.id);
      for (const [key, status] of [
        ['a', 'Succeeded'],
        ['b', 'Failed'],
      ] as const) {
        await storage.runs.recordStepStart({ runId, stepKey: key, stepType: 'Work' });
        await storage.runs.recordStepComplete({ runId, stepKey: key, status });
      }
      const report = await orchestrator.runMaintenance();
      expect(report.closed).toBe(1);
      expect((await storage.runs.getRunDetail(runId))!.status).toBe('Failed');
    },
  },
  {
    id: 'engine.replicas-execute-once',
    title: '4 replicas consuming one queue: each handler runs once per step (EN10)',
    run: async ({ storage, engine }) => {
      const calls = new Map<string, number>();
      const flow = chain(newFlowId(), 3);
      const handlers = {
        Work: ({ stepKey }: { stepKey: string }) => {
          calls.set(stepKey, (calls.get(stepKey) ?? 0) + 1);
          return stepKey;
        },
      };
      const workers = [];
      for (let i = 0; i < 4; i++) workers.push(await engine({ flows: [flow], handlers, pollIntervalMs: 5 }));
      const { runId } = await workers[0]!.orchestrator.trigger(flow.id);
      const run = await waitForRun(storage, runId!);
      expect(run.status).toBe('Succeeded');
      expect(Object.fromEntries(calls)).toEqual({ s0: 1, s1: 1, s2: 1 });
    },
  },
  {
    id: 'engine.cancel-force-closes-idle',
    title: 'cancel closes a Running run with no active steps at once, even without a control row (EN12)',
    run: async ({ storage, engine }) => {
      const flow = chain(newFlowId(), 1);
      const { orchestrator } = await engine({ flows: [flow], handlers: { Work: () => 1 } });
      const runId = await seedRun(storage, flow.id);
      expect(await orchestrator.cancelRun(runId)).toEqual({ accepted: true, closedImmediately: true });
      expect((await storage.runs.getRunDetail(runId))!.status).toBe('Cancelled');
    },
  },
  {
    id: 'engine.events-persisted-in-order',
    title:
      'persisted events run.started … run.completed in order; none when disabled; a failing event store never fails a run (EN13)',
    run: async ({ storage, engine }) => {
      const flow = chain(newFlowId(), 2);
      const handlers = { Work: () => 1 };
      const on = await engine({ flows: [flow], handlers });
      const { runId } = await on.orchestrator.trigger(flow.id);
      await waitForRun(storage, runId!);
      await waitFor(
        async () =>
          (await storage.events?.getRunEvents(runId!))?.some((e) => e.type === 'run.completed') ?? true,
        'run.completed event',
      );
      if (storage.events) {
        expect((await storage.events.getRunEvents(runId!)).map((e) => `${e.type}:${e.stepKey}`)).toEqual([
          'run.started:__run',
          'step.started:s0',
          'step.completed:s0',
          'step.started:s1',
          'step.completed:s1',
          'run.completed:s1',
        ]);
      }
      await on.orchestrator.stop();
      const off = await engine({ flows: [flow], handlers, persistEvents: false });
      const quiet = await off.orchestrator.trigger(flow.id);
      await waitForRun(storage, quiet.runId!);
      if (storage.events) expect(await storage.events.getRunEvents(quiet.runId!)).toEqual([]);
      await off.orchestrator.stop();
      const broken: FlowStorage = {
        ...storage,
        outputs: new Proxy(storage.outputs, {
          get: (target, prop, receiver) =>
            prop === 'recordEvent' || prop === 'recordEvents'
              ? async () => {
                  throw new Error('event store down');
                }
              : Reflect.get(target, prop, receiver),
        }),
      };
      const failing = await engine({ flows: [flow], handlers, storage: broken });
      const survived = await failing.orchestrator.trigger(flow.id);
      expect((await waitForRun(storage, survived.runId!)).status).toBe('Succeeded');
    },
  },
  {
    id: 'engine.wait-for-signal',
    title:
      'WaitForSignal parks, a signal resumes it with the payload downstream; a duplicate is AlreadyDelivered (EN11)',
    run: async ({ storage, engine }) => {
      if (!storage.signals) return;
      const seen: unknown[] = [];
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'Approval',
        steps: {
          approval: { type: 'WaitForSignal', inputs: { signalName: 'approved' } },
          ship: {
            type: 'Ship',
            runAfter: { approval: ['Succeeded'] },
            inputs: { by: "@steps('approval').output.by" },
          },
        },
      };
      const { orchestrator } = await engine({
        flows: [flow],
        handlers: { Ship: ({ inputs }) => void seen.push(inputs.by) },
      });
      const { runId } = await orchestrator.trigger(flow.id);
      await waitFor(
        async () => (await storage.signals!.getWaiter(runId!, 'approval')) !== null,
        'waiter registered',
      );
      expect(await orchestrator.signal(runId!, 'approved', { by: 'lead' })).toMatchObject({
        status: 'Delivered',
        stepKey: 'approval',
      });
      expect((await waitForRun(storage, runId!)).status).toBe('Succeeded');
      expect(seen).toEqual(['lead']);
      expect((await orchestrator.signal(runId!, 'approved', {})).status).toBe('AlreadyDelivered');
    },
  },
  {
    id: 'engine.cron-one-run-per-tick',
    title: 'two cron schedulers on the same store ticking together start one run per tick',
    run: async ({ storage, engine }) => {
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'EverySecond',
        triggers: { tick: { type: 'Cron', inputs: { cronExpression: '* * * * * *' } } },
        steps: { a: { type: 'Work' } },
      };
      const handlers = { Work: () => 1 };
      const one = await engine({ flows: [flow], handlers });
      const two = await engine({ flows: [flow], handlers });
      const schedulers = [one, two].map((e) =>
        createCronScheduler({ orchestrator: e.orchestrator, storage, flows: [flow], tickIntervalMs: 50 }),
      );
      for (const s of schedulers) await s.start();
      await sleep(3_200);
      for (const s of schedulers) await s.stop();
      const runs = (await storage.runs.getRunsPage({ flowId: flow.id, take: 100 })).runs;
      const seconds = new Set(runs.map((r) => Math.floor(r.startedAt.getTime() / 1000)));
      expect(runs.length).toBeGreaterThanOrEqual(2);
      // One run per fired second: the idempotency key of the tick dedupes the second scheduler.
      expect(runs.length).toBeLessThanOrEqual(seconds.size + 1);
      const keys = await Promise.all(
        runs.map(async (r) => (await storage.control!.getRunControl(r.id))?.idempotencyKey),
      );
      expect(new Set(keys).size).toBe(runs.length);
    },
  },
  ...QUEUE_SCENARIOS,
];

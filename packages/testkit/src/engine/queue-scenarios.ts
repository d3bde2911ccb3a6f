import { type EngineEvent, type FlowDefinition, type StepHandler, StepResults } from '@floworch/core';
import { expect } from 'vitest';
import { withLatency } from '../faults/latency.js';
import { type EngineScenario, newFlowId, statusesOf, waitFor, waitForRun } from './support.js';

/** `a → (b1, b2, b3) → c → d`: a fan-out whose join must run before the run closes. */
const diamond = (id: string): FlowDefinition => ({
  id,
  name: 'Diamond',
  steps: {
    a: { type: 'Work' },
    b1: { type: 'Work', runAfter: { a: ['Succeeded'] } },
    b2: { type: 'Work', runAfter: { a: ['Succeeded'] } },
    b3: { type: 'Work', runAfter: { a: ['Succeeded'] } },
    c: { type: 'Work', runAfter: { b1: ['Succeeded'], b2: ['Succeeded'], b3: ['Succeeded'] } },
    d: { type: 'Work', runAfter: { c: ['Succeeded'] } },
  },
});

/** Engine scenarios of the durable queue: timing-independence and nothing stranded on stop. */
export const QUEUE_SCENARIOS: readonly EngineScenario[] = [
  {
    id: 'engine.latency-no-early-close',
    title:
      'random latency on every storage call, two replicas, 500 runs of a → (b1, b2, b3) → c → d: no run closed early, no join step missing',
    run: async ({ storage, engine, scale }) => {
      const slow = withLatency(storage, { maxMs: 3 });
      const flow = diamond(newFlowId());
      const executions = new Map<string, number>();
      const handlers: Record<string, StepHandler> = {
        Work: ({ runId, stepKey }) => {
          const key = `${runId}/${stepKey}`;
          executions.set(key, (executions.get(key) ?? 0) + 1);
          return stepKey;
        },
      };
      const log: EngineEvent[] = [];
      const completed = new Map<string, EngineEvent[]>();
      const replicas = [
        await engine({ flows: [flow], handlers, storage: slow, pollIntervalMs: 50 }),
        await engine({ flows: [flow], handlers, storage: slow, pollIntervalMs: 50 }),
      ];
      for (const r of replicas) r.orchestrator.subscribe((e) => void log.push(e));
      const total = Math.max(20, Math.round(500 * scale));
      const window = 40;
      const runIds: string[] = [];
      let next = 0;
      const open = new Set<string>();
      while (next < total || open.size > 0) {
        while (next < total && open.size < window) {
          const { runId } = await replicas[next % 2]!.orchestrator.trigger(flow.id);
          runIds.push(runId!);
          open.add(runId!);
          next++;
        }
        await new Promise((r) => setTimeout(r, 5));
        for (const e of log.splice(0)) {
          (completed.get(e.runId) ?? completed.set(e.runId, []).get(e.runId)!).push(e);
          if (e.type === 'run.completed') open.delete(e.runId);
        }
      }
      for (const runId of runIds) {
        const events = completed.get(runId) ?? [];
        const closes = events.filter((e) => e.type === 'run.completed');
        expect(closes, `run ${runId} completed events`).toHaveLength(1);
        expect(closes[0]!.status).toBe('Succeeded');
        const last = events.findIndex((e) => e.type === 'run.completed');
        const dDone = events.findIndex((e) => e.type === 'step.completed' && e.stepKey === 'd');
        expect(dDone, `d completed before run ${runId} closed`).toBeGreaterThanOrEqual(0);
        expect(dDone).toBeLessThan(last);
      }
      const sample = await storage.runs.getRunDetail(runIds[total - 1]!);
      expect(statusesOf(sample!)).toEqual({
        a: 'Succeeded',
        b1: 'Succeeded',
        b2: 'Succeeded',
        b3: 'Succeeded',
        c: 'Succeeded',
        d: 'Succeeded',
      });
      // Every step of every run executed exactly once (no crash here, so no re-execution).
      expect(executions.size).toBe(total * 6);
      expect([...executions.values()].every((n) => n === 1)).toBe(true);
      const stored = await storage.runs.getRunsPage({ flowId: flow.id, status: 'Succeeded', take: 0 });
      expect(stored.totalCount).toBe(total);
    },
  },
  {
    id: 'engine.stopped-replica-strands-nothing',
    title:
      'a replica stopped while its runs wait in retry backoff, polling and delayed dispatch: another finishes them with no restart',
    run: async ({ storage, engine }) => {
      const flow: FlowDefinition = {
        id: newFlowId(),
        name: 'Waiting',
        steps: {
          r: {
            type: 'FailUntilReleased',
            retry: { maxAttempts: 50, delayMs: 300, backoff: 'fixed', jitter: 0 },
          },
          p: { type: 'PollUntilReleased' },
          d: { type: 'Delayed' },
          after: { type: 'Work', runAfter: { d: ['Succeeded'] } },
        },
      };
      // Until released, r keeps failing into retry backoff and p keeps polling: the first replica
      // is stopped while every run has work parked for later, whatever the machine's speed.
      let released = false;
      const handlers: Record<string, StepHandler> = {
        FailUntilReleased: () => (released ? 'ok' : StepResults.failed('not yet')),
        PollUntilReleased: () => (released ? StepResults.succeeded('done') : StepResults.pending(300)),
        Delayed: () => StepResults.succeeded('later', { delayMs: 2_000 }),
        Work: () => 'done',
      };
      const first = await engine({ flows: [flow], handlers, pollIntervalMs: 50, leaseMs: 2_000 });
      const runIds: string[] = [];
      for (let i = 0; i < 10; i++) runIds.push((await first.orchestrator.trigger(flow.id)).runId!);
      await waitFor(async () => {
        for (const runId of runIds) {
          const s = statusesOf((await storage.runs.getRunDetail(runId))!);
          if (s.r === undefined || s.p === undefined || s.d !== 'Succeeded' || s.after !== undefined)
            return false;
        }
        return true;
      }, 'every run parked');
      await first.orchestrator.stop();
      released = true;
      const startedAt = Date.now();
      const second = await engine({ flows: [flow], handlers, pollIntervalMs: 100, leaseMs: 2_000 });
      for (const runId of runIds) {
        const run = await waitForRun(storage, runId, 15_000);
        expect(run.status).toBe('Succeeded');
        expect(statusesOf(run)).toEqual({
          r: 'Succeeded',
          p: 'Succeeded',
          d: 'Succeeded',
          after: 'Succeeded',
        });
      }
      // Lease + poll interval + the successor delay, with room for a slow machine.
      expect(Date.now() - startedAt).toBeLessThan(2_000 + 100 + 2_000 + 5_000);
      await second.orchestrator.stop();
    },
  },
];

import type { FlowStepQueueStore, FlowStorage } from '@floworch/core';
import type { RunStartWrite, TakenStep } from '@floworch/core/backend';
import { expect } from 'vitest';
import { need } from '../case.js';
import { uuid } from '../fixtures.js';

// Helpers shared by the queue case files.

/** The store's queue capability (declared in the case's `requires`). */
export const q = (storage: FlowStorage): FlowStepQueueStore => need(storage.queue, 'queue');

/** A trigger transition with sensible defaults. */
export function trigger(
  overrides: Partial<RunStartWrite> & { runId?: string; flowId?: string } = {},
): RunStartWrite {
  return {
    run: {
      runId: overrides.runId ?? uuid(),
      flowId: overrides.flowId ?? uuid(),
      flowName: 'QueueFlow',
      triggerKey: 'manual',
      triggerDataJson: '{"order":42}',
      jobId: null,
      sourceRunId: null,
      ...overrides.run,
    },
    triggerHeaders: overrides.triggerHeaders === undefined ? { 'X-Trace': 'abc' } : overrides.triggerHeaders,
    idempotencyKey: overrides.idempotencyKey ?? null,
    timeoutAt: overrides.timeoutAt ?? null,
    events: overrides.events ?? [{ type: 'run.started', message: 'started', stepKey: '__run' }],
    entrySteps: overrides.entrySteps ?? ['a'],
    ...(overrides.takeFor ? { takeFor: overrides.takeFor } : {}),
  };
}

/** Starts a run and takes all of its entry steps for `owner` (lease 10 s). */
export async function startAndTake(
  storage: FlowStorage,
  entrySteps: string[],
  owner = 'w1',
): Promise<string> {
  const { runId } = await q(storage).startRun(trigger({ entrySteps }));
  const taken = await q(storage).take({ owner, limit: entrySteps.length, leaseMs: 10_000 });
  expect(taken.map((s) => s.stepKey).sort()).toEqual([...entrySteps].sort());
  for (const step of taken) {
    expect(
      await q(storage).startStep({ runId, stepKey: step.stepKey, owner, stepType: 'Work', inputJson: null }),
    ).toBe(true);
  }
  return runId;
}

/** `runId/stepKey` of each taken step. */
export const keysOf = (steps: readonly TakenStep[]): string[] => steps.map((s) => `${s.runId}/${s.stepKey}`);

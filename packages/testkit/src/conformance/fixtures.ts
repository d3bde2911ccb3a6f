import { randomUUID } from 'node:crypto';
import type { FlowRunRecord, FlowStorage } from '@floworch/core';
import type { StartRunInput } from '@floworch/core/backend';

/** A fresh lowercase UUID. */
export const uuid = (): string => randomUUID();

/** The instant every case starts at (a fixed, unaligned time on purpose: 10:17:23.456 UTC). */
export const T0 = Date.UTC(2031, 2, 4, 10, 17, 23, 456);

/** Starts a run with sensible defaults. */
export async function startRun(
  storage: FlowStorage,
  input: Partial<StartRunInput> = {},
): Promise<FlowRunRecord> {
  return storage.runs.startRun({
    runId: input.runId ?? uuid(),
    flowId: input.flowId ?? uuid(),
    flowName: input.flowName === undefined ? 'OrderFlow' : input.flowName,
    triggerKey: input.triggerKey === undefined ? 'manual' : input.triggerKey,
    triggerDataJson: input.triggerDataJson ?? null,
    jobId: input.jobId ?? null,
    sourceRunId: input.sourceRunId ?? null,
  });
}

/** Records a step start followed by a completion with `status`. */
export async function finishStep(
  storage: FlowStorage,
  runId: string,
  stepKey: string,
  status: 'Succeeded' | 'Failed' | 'Pending' | 'Skipped' | 'Running',
  extra: {
    outputJson?: string | null;
    errorMessage?: string | null;
    inputJson?: string | null;
    stepType?: string;
  } = {},
): Promise<void> {
  await storage.runs.recordStepStart({
    runId,
    stepKey,
    stepType: extra.stepType ?? 'Work',
    inputJson: extra.inputJson ?? null,
  });
  if (status !== 'Running') {
    await storage.runs.recordStepComplete({
      runId,
      stepKey,
      status,
      outputJson: extra.outputJson ?? null,
      errorMessage: extra.errorMessage ?? null,
    });
  }
}

/** Runs every thunk concurrently and returns the settled results (never throws). */
export async function race<T>(thunks: ReadonlyArray<() => Promise<T>>): Promise<PromiseSettledResult<T>[]> {
  // Build every promise before awaiting any, so all callers are in flight together.
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const promises = thunks.map(async (thunk) => {
    await gate;
    return thunk();
  });
  release();
  return Promise.allSettled(promises);
}

/** The fulfilled values of `race`, asserting that nothing was rejected. */
export function fulfilled<T>(results: PromiseSettledResult<T>[]): T[] {
  const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (errors.length > 0) {
    const first = errors[0]!.reason as Error;
    throw new Error(`${errors.length} concurrent call(s) threw; first: ${first?.message ?? String(first)}`);
  }
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Count of `true` values. */
export const countTrue = (values: readonly boolean[]): number => values.filter(Boolean).length;

/** Round-robin pick over instances. */
export const pick = <T>(items: readonly T[], i: number): T => items[i % items.length]!;

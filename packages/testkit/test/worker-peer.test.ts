import { FlowOrchError, ManualClock, STORAGE_CAPABILITIES } from '@floworch/core';
import { checkStorageCapabilities } from '@floworch/core/backend';
import { afterEach, describe, expect, it } from 'vitest';
import { openWorkerPeer, T0 } from '../src/index.js';

// The proxy itself, against an in-memory store living in the worker (its data is the worker's
// own; sharing data needs a real database, see the PostgreSQL package's worker-peer suite).
const module = new URL('./support/memory-worker-store.ts', import.meta.url);
const execArgv = ['--conditions=@floworch/source'];
const opened: { close(): Promise<void> }[] = [];

async function open(clock = new ManualClock(T0)) {
  const peer = await openWorkerPeer({ module, clock, execArgv });
  opened.push(peer);
  return { peer, clock };
}

afterEach(async () => {
  for (const p of opened.splice(0)) await p.close();
});

describe('openWorkerPeer', () => {
  it('forwards every contract, keeps dates, maps and sets, and reads time from the caller clock', async () => {
    const { peer, clock } = await open();
    expect(peer.capabilities).toEqual(STORAGE_CAPABILITIES);
    expect(checkStorageCapabilities(peer)).toEqual([]);
    clock.advance(5_000);
    const run = await peer.runs.startRun({
      runId: crypto.randomUUID(),
      flowId: crypto.randomUUID(),
      flowName: 'f',
      triggerKey: 'm',
    });
    expect(run.startedAt).toBeInstanceOf(Date);
    expect(run.startedAt.getTime()).toBe(T0 + 5_000);
    await peer.runs.tryRecordDispatch(run.id, 'a');
    expect(await peer.runs.getDispatchedStepKeys(run.id)).toEqual(new Set(['a']));
    await peer.runs.recordStepStart({ runId: run.id, stepKey: 'a', stepType: 'W' });
    expect(await peer.runtime!.getStepStatuses(run.id)).toEqual(new Map([['a', 'Running']]));
    expect(peer.clock).toBe(clock);
  });

  it('rejects with the error class name and code of the store', async () => {
    const { peer } = await open();
    const input = { runId: crypto.randomUUID(), flowId: crypto.randomUUID(), flowName: 'f', triggerKey: 'm' };
    await peer.runs.startRun(input);
    const duplicate = await peer.runs.startRun(input).catch((e: unknown) => e);
    expect(duplicate).toBeInstanceOf(FlowOrchError);
    expect(duplicate).toMatchObject({ name: 'DuplicateRunError', code: 'DUPLICATE_RUN', runId: input.runId });
    await expect(peer.outputs.saveStepOutput(input.runId, 'a', { n: 1n })).rejects.toMatchObject({
      name: 'InvalidArgumentError',
      code: 'INVALID_ARGUMENT',
    });
  });

  it('an aborted signal rejects with that very reason', async () => {
    const { peer } = await open();
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(peer.retention!.cleanup(new Date(T0), { signal: controller.signal })).rejects.toBe(reason);
  });

  it('fails to open with the factory error when the export is missing', async () => {
    await expect(
      openWorkerPeer({ module, exportName: 'nope', clock: new ManualClock(T0), execArgv }),
    ).rejects.toThrow(/nope/);
  });

  it('close is idempotent and later calls reject', async () => {
    const { peer } = await open();
    await peer.close();
    await peer.close();
    await expect(peer.flows.getAll()).rejects.toThrow(/closed/);
  });
});

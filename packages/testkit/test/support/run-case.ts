import { type FlowStorage, ManualClock } from '@floworch/core';
import { STORAGE_CONFORMANCE_CASES, T0 } from '../../src/index.js';

/** Thrown by a case's `skip`, so a skipped case is not mistaken for a failure or a pass. */
export class CaseSkipped extends Error {}

/**
 * Runs one conformance case by id outside the suite (no vitest `it`), on stores built by `open`
 * from a shared clock; `open` is called again for each peer. Resolves when the case passes and
 * rejects with its assertion error when it fails.
 */
export async function runCaseById(
  id: string,
  open: (clock: ManualClock, peerOf?: FlowStorage) => FlowStorage,
  raceWidth = 16,
): Promise<void> {
  const c = STORAGE_CONFORMANCE_CASES.find((x) => x.id === id);
  if (!c) throw new Error(`no conformance case '${id}'`);
  const clock = new ManualClock(T0);
  const storage = open(clock);
  await c.run({
    storage,
    clock,
    raceWidth,
    skip: (reason) => {
      throw new CaseSkipped(reason);
    },
    instances: async (count) => [storage, ...Array.from({ length: count }, () => open(clock, storage))],
  });
}

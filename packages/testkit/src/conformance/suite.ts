import { randomBytes } from 'node:crypto';
import { type FlowStorage, ManualClock } from '@floworch/core';
import { describe, it } from 'vitest';
import type { CaseGroup, ConformanceCase } from './case.js';
import { controlCases } from './cases/control.js';
import { flowCases } from './cases/flows.js';
import { outputCases } from './cases/outputs.js';
import { queryCases } from './cases/queries.js';
import { queueCases } from './cases/queue.js';
import { queueDeliveryCases } from './cases/queue-delivery.js';
import { queueEdgeCases } from './cases/queue-edges.js';
import { retentionCases } from './cases/retention.js';
import { runCases } from './cases/runs.js';
import { runtimeCases } from './cases/runtime.js';
import { serialisationCases } from './cases/serialisation.js';
import { signalCases } from './cases/signals.js';
import { webhookCases } from './cases/webhooks.js';
import { T0 } from './fixtures.js';
import type { ConformanceFixture, StorageConformanceOptions } from './harness.js';

/** Every storage conformance case, grouped as they are reported. */
export const STORAGE_CONFORMANCE_GROUPS: readonly CaseGroup[] = Object.freeze([
  ...flowCases,
  ...runCases,
  ...queryCases,
  ...runtimeCases,
  ...queueCases,
  ...queueEdgeCases,
  ...queueDeliveryCases,
  ...controlCases,
  ...outputCases,
  ...retentionCases,
  ...signalCases,
  ...webhookCases,
  ...serialisationCases,
]);

/** Every storage conformance case, flat. Ids are unique and stable across releases. */
export const STORAGE_CONFORMANCE_CASES: readonly ConformanceCase[] = Object.freeze(
  STORAGE_CONFORMANCE_GROUPS.flatMap((g) => g.cases),
);

/** Why a case cannot run against this backend, or `null` when it can. */
function skipReason(
  c: ConformanceCase,
  options: StorageConformanceOptions,
  hasPeers: boolean,
): string | null {
  for (const [pattern, reason] of Object.entries(options.skip ?? {})) {
    const matches = pattern.endsWith('*') ? c.id.startsWith(pattern.slice(0, -1)) : c.id === pattern;
    if (matches) return reason;
  }
  const missing = (c.requires ?? []).filter((cap) => !options.capabilities.includes(cap));
  if (missing.length > 0) return `backend does not implement ${missing.join(', ')}`;
  if (c.needsPeers && !hasPeers) return 'backend offers no peer instances (openPeer)';
  return null;
}

/**
 * Registers the storage conformance suite with vitest: one `describe` per contract and one test
 * per case, titled by its stable id. Cases the backend cannot run are reported as skipped with the
 * reason in the title, never dropped.
 *
 * @example
 * ```ts
 * import { defineStorageConformance } from '@floworch/testkit';
 * defineStorageConformance({
 *   name: 'my-store',
 *   capabilities: ['runtime', 'control'],
 *   setup: async ({ clock }) => ({ storage: createMyStorage({ clock }) }),
 * });
 * ```
 */
export function defineStorageConformance(options: StorageConformanceOptions): void {
  const ids = new Set<string>();
  for (const c of STORAGE_CONFORMANCE_CASES) {
    if (ids.has(c.id)) throw new Error(`duplicate conformance case id '${c.id}'`);
    ids.add(c.id);
  }
  const raceWidth = options.raceWidth ?? 64;
  const timeout = options.timeoutMs ?? 30_000;
  const hasPeers = options.peers ?? true;

  describe(`storage conformance: ${options.name}`, () => {
    for (const group of STORAGE_CONFORMANCE_GROUPS) {
      describe(group.name, () => {
        for (const c of group.cases) {
          const reason = skipReason(c, options, hasPeers);
          if (reason !== null) {
            it.skip(`${c.id} — ${c.title} [skipped: ${reason}]`, () => {});
            continue;
          }
          it(`${c.id} — ${c.title}`, { timeout }, async (test) => {
            await runCase(c, options, raceWidth, (why) => test.skip(`skipped: ${why}`));
          });
        }
      });
    }
  });
}

/** Runs one case on a fresh fixture, always tearing down what it opened. */
async function runCase(
  c: ConformanceCase,
  options: StorageConformanceOptions,
  raceWidth: number,
  skip: (reason: string) => never,
): Promise<void> {
  const clock = new ManualClock(T0);
  const testId = randomBytes(6).toString('hex');
  const fixture: ConformanceFixture = await options.setup({ clock, testId });
  const peers: FlowStorage[] = [];
  try {
    await c.run({
      storage: fixture.storage,
      clock,
      raceWidth,
      skip,
      instances: async (count) => {
        if (!c.needsPeers) throw new Error(`case '${c.id}' asked for peers without declaring needsPeers`);
        const openPeer = fixture.openPeer;
        if (!openPeer) throw new Error(`backend '${options.name}' returned no openPeer; set peers: false`);
        while (peers.length < count) peers.push(await openPeer());
        return [fixture.storage, ...peers.slice(0, count)];
      },
    });
  } finally {
    for (const peer of peers) await peer.close();
    await fixture.storage.close();
    await fixture.teardown?.();
  }
}

import { STORAGE_CAPABILITIES } from '@floworch/core';
import { defineStorageConformance, openWorkerPeer, STORAGE_CONFORMANCE_CASES } from '@floworch/testkit';
import { afterAll, describe, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

// Race cases again, with every peer in its own worker thread (openWorkerPeer): the way a backend
// with a synchronous driver gets truly parallel callers. Here it checks the worker proxy end to
// end on a real database. Each worker loads the package from TypeScript (~2 s), so by default
// three representative races run; FLOWORCH_WORKER_PEERS=all runs every one.
const everyRace = process.env.FLOWORCH_WORKER_PEERS === 'all';
const sample = new Set([
  'race.ledger.exclusive-under-contention',
  'race.claims.exclusive-under-contention',
  'race.signals.deliver-exactly-once',
]);
const onlyRaces = Object.fromEntries(
  STORAGE_CONFORMANCE_CASES.filter((c) => !c.needsPeers || !(everyRace || sample.has(c.id))).map((c) => [
    c.id,
    c.needsPeers
      ? 'set FLOWORCH_WORKER_PEERS=all to run every race on worker peers'
      : 'runs in postgresql.conformance',
  ]),
);

if (!pgUrl) {
  describe('storage conformance: postgresql worker peers', () => {
    it.skip(`skipped: ${pgSource}`, () => {});
  });
} else {
  const admin = adminPool();
  afterAll(() => admin.end());

  defineStorageConformance({
    name: `postgresql worker peers (${pgSource})`,
    capabilities: STORAGE_CAPABILITIES,
    skip: onlyRaces,
    timeoutMs: 60_000,
    setup: async ({ clock, testId }) => {
      const schema = `floworch_w_${testId}`;
      const storage = await createPostgresStorage({ connectionString: pgUrl, schema, clock });
      return {
        storage,
        openPeer: () =>
          openWorkerPeer({
            module: new URL('./worker-store.ts', import.meta.url),
            options: { connectionString: pgUrl, schema },
            clock,
            // This repository runs its packages from TypeScript sources.
            execArgv: ['--conditions=@floworch/source'],
          }),
        teardown: () => dropSchema(admin, schema),
      };
    },
  });
}

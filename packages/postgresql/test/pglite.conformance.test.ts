import { PGlite } from '@electric-sql/pglite';
import { STORAGE_CAPABILITIES } from '@floworch/core';
import { defineStorageConformance } from '@floworch/testkit';
import { afterAll } from 'vitest';
import { createPgliteStorage } from '../src/pglite.js';

// One in-memory PGlite for the file (it takes a moment to boot), one schema per test.
const pglite = new PGlite('memory://');
afterAll(() => pglite.close());

defineStorageConformance({
  name: 'pglite',
  capabilities: STORAGE_CAPABILITIES,
  peers: false,
  skip: { 'race.*': 'PGlite has a single connection; race cases need independent connections' },
  setup: async ({ clock, testId }) => {
    const schema = `floworch_t_${testId}`;
    const storage = await createPgliteStorage({ pglite, schema, clock });
    return {
      storage,
      teardown: async () => void (await pglite.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
    };
  },
});

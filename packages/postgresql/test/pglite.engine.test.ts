import { PGlite } from '@electric-sql/pglite';
import { defineEngineConformance } from '@floworch/testkit';
import { afterAll } from 'vitest';
import { createPgliteStorage } from '../src/pglite.js';

const pglite = new PGlite('memory://');
afterAll(() => pglite.close());

defineEngineConformance({
  name: 'pglite',
  // One connection in WebAssembly: the many-run scenarios run at a fifth of their size.
  scale: 0.2,
  setup: async ({ testId }) => {
    const schema = `floworch_en_${testId}`;
    const storage = await createPgliteStorage({ pglite, schema });
    return {
      storage,
      teardown: async () => void (await pglite.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)),
    };
  },
});

import { defineClientConformance } from '@floworch/testkit';
import { afterAll, describe, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

if (!pgUrl) {
  describe('flow client: postgresql', () => {
    it.skip(`skipped: ${pgSource}`, () => {});
  });
} else {
  const admin = adminPool();
  afterAll(() => admin.end());
  defineClientConformance({
    name: `postgresql (${pgSource})`,
    setup: async ({ testId }) => {
      const schema = `floworch_cl_${testId}`;
      const storage = await createPostgresStorage({ connectionString: pgUrl, schema });
      return { storage, teardown: () => dropSchema(admin, schema) };
    },
  });
}

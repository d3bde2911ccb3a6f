import { STORAGE_CAPABILITIES } from '@floworch/core';
import { defineStorageConformance } from '@floworch/testkit';
import { afterAll, describe, it } from 'vitest';
import { createPostgresStorage } from '../src/index.js';
import { adminPool, dropSchema, pgSource, pgUrl } from './support.js';

if (!pgUrl) {
  describe('storage conformance: postgresql', () => {
    it.skip(`skipped: ${pgSource}`, () => {});
  });
} else {
  const admin = adminPool();
  afterAll(() => admin.end());

  // One schema per test, migrated fresh and dropped afterwards; peers get their own pools.
  defineStorageConformance({
    name: `postgresql (${pgSource})`,
    capabilities: STORAGE_CAPABILITIES,
    setup: async ({ clock, testId }) => {
      const schema = `floworch_t_${testId}`;
      const storage = await createPostgresStorage({ connectionString: pgUrl, schema, clock });
      return {
        storage,
        openPeer: () => createPostgresStorage({ connectionString: pgUrl, schema, clock, migrate: false }),
        teardown: () => dropSchema(admin, schema),
      };
    },
  });
}

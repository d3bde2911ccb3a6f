import { randomBytes } from 'node:crypto';
import { STORAGE_CAPABILITIES } from '@floworch/core';
import { defineEngineConformance, defineStorageConformance } from '@floworch/testkit';
import { afterAll, describe, it } from 'vitest';
import { createSqlServerStorage } from '../src/storage.js';
import { defineMigrationChecks } from './support/migration-checks.js';
import { adminDb, chooseServer, dropSchema } from './support/server.js';

// FLOWORCH_MSSQL_URL, else a Testcontainers SQL Server when Docker answers, else a visible skip.
const server = await chooseServer();

if (server.url === null) {
  describe(`storage conformance: sqlserver [skipped: ${server.reason}]`, () => {
    it.skip(`every storage conformance case — set FLOWORCH_MSSQL_URL or start Docker to run them (${server.reason})`, () => {});
  });
  describe(`engine scenarios: sqlserver [skipped: ${server.reason}]`, () => {
    it.skip(`every engine scenario on the SQL Server queue — set FLOWORCH_MSSQL_URL or start Docker to run them (${server.reason})`, () => {});
  });
} else {
  const url = server.url;
  const admin = adminDb(url);
  afterAll(async () => {
    await admin.destroy();
    await server.stop();
  });

  defineStorageConformance({
    name: 'sqlserver',
    capabilities: STORAGE_CAPABILITIES,
    timeoutMs: 120_000,
    setup: async ({ clock, testId }) => {
      // One schema per test keeps cases isolated on a shared database.
      const schema = `fo_${testId}`;
      const storage = await createSqlServerStorage({ connectionString: url, schema, clock });
      return {
        storage,
        openPeer: () => createSqlServerStorage({ connectionString: url, schema, clock, migrate: false }),
        teardown: () => dropSchema(admin, schema),
      };
    },
  });

  defineMigrationChecks(url, admin, () => `fm_${randomBytes(5).toString('hex')}`);

  // The real engine on the SQL Server queue (polling: there are no notifications), on the same server.
  defineEngineConformance({
    name: 'sqlserver',
    timeoutMs: 120_000,
    setup: async ({ testId }) => {
      const schema = `fe_${testId}`;
      const storage = await createSqlServerStorage({ connectionString: url, schema });
      return { storage, teardown: () => dropSchema(admin, schema) };
    },
  });
}

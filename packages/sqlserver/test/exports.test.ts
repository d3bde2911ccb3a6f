import { describe, expect, it } from 'vitest';

// The public surface is a promise: a name added or removed here must be a deliberate change.
describe('@floworch/sqlserver exports', () => {
  it('@floworch/sqlserver', async () => {
    const mod = await import('../src/index.js');
    expect(Object.keys(mod).sort()).toMatchInlineSnapshot(`
      [
        "SCHEMA_VERSION",
        "SQLSERVER_ACQUIRE_TIMEOUT_MS",
        "createSqlServerStorage",
        "createSqlServerWebhookStores",
        "migrateSqlServer",
        "parseConnectionString",
      ]
    `);
  });
});

import { describe, expect, it } from 'vitest';

// The public surface is a promise: a name added or removed here must be a deliberate change.
describe('@floworch/postgresql exports', () => {
  it('@floworch/postgresql', async () => {
    const mod = await import('../src/index.js');
    expect(Object.keys(mod).sort()).toMatchInlineSnapshot(`
      [
        "POSTGRES_TIMEOUT_DEFAULTS",
        "SCHEMA_VERSION",
        "createPostgresStorage",
        "createPostgresWebhookStores",
        "migratePostgres",
      ]
    `);
  });
  it('@floworch/postgresql/pglite', async () => {
    const mod = await import('../src/pglite.js');
    expect(Object.keys(mod).sort()).toMatchInlineSnapshot(`
      [
        "createPgliteStorage",
      ]
    `);
  });
});

import { describe, expect, it } from 'vitest';

// The public surface is a promise: a name added or removed here must be a deliberate change.
describe('@floworch/bullmq exports', () => {
  it('@floworch/bullmq', async () => {
    const mod = await import('../src/index.js');
    expect(Object.keys(mod).sort()).toMatchInlineSnapshot(`
      [
        "createBullMQRuntime",
        "stepJobId",
      ]
    `);
  });
});

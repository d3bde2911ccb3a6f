import { describe, expect, it } from 'vitest';

// The public surface is a promise: a name added or removed here must be a deliberate change.
describe('@floworch/dashboard exports', () => {
  it('@floworch/dashboard', async () => {
    const mod = await import('../src/index.js');
    expect(Object.keys(mod).sort()).toMatchInlineSnapshot(`
      [
        "EventLogCursor",
        "HttpError",
        "REDACTED",
        "constantTimeEquals",
        "createDashboard",
        "isLoopback",
        "isSecretName",
        "redactHeaders",
        "serveDashboard",
      ]
    `);
  });
});

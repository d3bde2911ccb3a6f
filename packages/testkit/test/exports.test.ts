import { describe, expect, it } from 'vitest';

// The public surface is a promise: a name added or removed here must be a deliberate change.
describe('@floworch/testkit exports', () => {
  it('@floworch/testkit', async () => {
    const mod = await import('../src/index.js');
    expect(Object.keys(mod).sort()).toMatchInlineSnapshot(`
      [
        "ENGINE_SCENARIOS",
        "FakeTimers",
        "STORAGE_CONFORMANCE_CASES",
        "STORAGE_CONFORMANCE_GROUPS",
        "T0",
        "createFlowTestHost",
        "defineClientConformance",
        "defineEngineConformance",
        "defineStorageConformance",
        "failOnProcessFaults",
        "openWorkerPeer",
        "recordingLogger",
        "startSilentServer",
        "waitFor",
        "waitForRun",
        "withLatency",
      ]
    `);
  });
});

/**
 * @floworch/testkit — the storage conformance suite every backend runs, and the helpers it is
 * built from.
 */
export type { CaseContext, CaseGroup, ConformanceCase } from './conformance/case.js';
export { T0 } from './conformance/fixtures.js';
export type {
  ConformanceContext,
  ConformanceFixture,
  StorageConformanceOptions,
} from './conformance/harness.js';
export {
  defineStorageConformance,
  STORAGE_CONFORMANCE_CASES,
  STORAGE_CONFORMANCE_GROUPS,
} from './conformance/suite.js';
export { type ClientConformanceOptions, defineClientConformance } from './engine/client-suite.js';
export { ENGINE_SCENARIOS } from './engine/scenarios.js';
export { defineEngineConformance, type EngineConformanceOptions } from './engine/suite.js';
export type { EngineScenario, ScenarioContext } from './engine/support.js';
export { waitForRun } from './engine/support.js';
export { type LatencyOptions, withLatency } from './faults/latency.js';
export { failOnProcessFaults } from './faults/process-faults.js';
export { type LoggedLine, recordingLogger } from './faults/recording-logger.js';
export { type SilentServer, startSilentServer } from './faults/silent-server.js';
export { FakeTimers } from './host/fake-timers.js';
export {
  createFlowTestHost,
  type FlowTestHost,
  type FlowTestHostOptions,
  type TestRun,
} from './host/test-host.js';
export { openWorkerPeer, type WorkerPeerOptions } from './peers/worker-peer.js';
export { type WaitForOptions, waitFor } from './wait-for.js';

/**
 * `@floworch/core`: storage contracts every backend implements, helpers for backend authors,
 * the FlowOrchestrator engine, and the flow client.
 * @packageDocumentation
 */

export * from './client/index.js';
export * from './engine/index.js';
export * from './errors.js';
export * from './ids.js';
export * from './logging/index.js';
export * from './model/types.js';
export {
  type CronSchedulerFactory,
  createFlowOrchestrator,
  type FlowOrchestrator,
  type FlowOrchestratorOptions,
} from './orchestrator.js';
export * from './services/index.js';
export * from './storage/index.js';
export * from './time/index.js';

/**
 * `@floworch/core`: the FlowOrchestrator engine, the flow client, the errors callers catch, and
 * the storage contract types needed to pass a storage around. Writing a backend? The helpers
 * for that live in `@floworch/core/backend`.
 * @packageDocumentation
 */

export * from './client/index.js';
export * from './engine/index.js';
export * from './errors.js';
export { FLOW_SLUG_NAMESPACE, isFlowSlug, toFlowId } from './ids.js';
export * from './logging/index.js';
export * from './model/types.js';
export {
  type CronSchedulerFactory,
  createFlowOrchestrator,
  type FlowOrchestrator,
  type FlowOrchestratorOptions,
} from './orchestrator.js';
export * from './services/index.js';
export * from './storage/public.js';
export * from './time/index.js';

/**
 * `@floworch/core`: storage contracts every backend implements, helpers for backend authors,
 * and the FlowOrchestrator engine.
 * @packageDocumentation
 */

export * from './engine/index.js';
export * from './errors.js';
export * from './model/types.js';
export * from './services/index.js';
export * from './storage/index.js';

/**
 * The structured logger the engine, services and stores write to, and its stock implementations.
 * @module
 */
export * from './logger.js';

/**
 * Time as the engine, services and stores see it: the wall clock that stamps records and the
 * timers that schedule work. Both are injected so tests can drive time.
 * @module
 */
export * from './clock.js';
export * from './timers.js';

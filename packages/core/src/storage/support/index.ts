export * from './events.js';
export * from './json.js';
export * from './output-keys.js';
export * from './paging.js';
export * from './text.js';
export * from './timeseries.js';

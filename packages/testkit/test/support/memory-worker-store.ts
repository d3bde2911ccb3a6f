import type { Clock } from '@floworch/core';
import { createInMemoryStorage } from '@floworch/inmemory';

/** Worker-side factory for the worker-peer tests: a private in-memory store on the given clock. */
export default function open(_options: unknown, context: { clock: Clock }) {
  return createInMemoryStorage({ clock: context.clock });
}

import type { Clock } from '@floworch/core';
import { createPostgresStorage } from '../src/index.js';

/** Opens a peer inside a worker thread (see postgresql.worker-peers.conformance.test.ts). */
export default function open(
  options: { connectionString: string; schema: string },
  context: { clock: Clock },
) {
  return createPostgresStorage({ ...options, clock: context.clock, migrate: false });
}

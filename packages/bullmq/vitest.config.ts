import { floworchProject } from '../../vitest.shared.js';

export default floworchProject('bullmq', {
  testTimeout: 120_000,
  hookTimeout: 60_000,
  // The process tests start worker processes and FLUSHDB their own Redis database: one file at a time.
  fileParallelism: false,
});

import { floworchProject } from '../../vitest.shared.js';

export default floworchProject('postgresql', {
  globalSetup: ['./test/global-setup.ts'],
  testTimeout: 60_000,
  hookTimeout: 120_000,
});

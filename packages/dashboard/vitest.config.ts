import { floworchProject } from '../../vitest.shared.js';

export default floworchProject('dashboard', {
  globalSetup: ['./test/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
});

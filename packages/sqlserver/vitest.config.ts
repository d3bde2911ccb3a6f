import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@floworch/source'] },
  test: { name: 'sqlserver', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});

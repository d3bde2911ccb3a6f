import { defineConfig } from 'vitest/config';

// One test run for the whole monorepo: every package (and example) is a vitest project.
// Packages resolve each other's TypeScript sources through the "@floworch/source" export
// condition, so tests never depend on a prior build.
export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'chaos'],
  },
});

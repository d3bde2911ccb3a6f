// Mutation testing of the in-memory backend, with the storage conformance suite as the only
// judge: every surviving mutant is a wrong backend the suite would pass. Run with `pnpm mutate`
// (slow: minutes on two cores, so not part of CI); the last result is in docs/mutation-report.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'pnpm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'stryker.vitest.config.ts', related: false },
  // The storage guard is mutated too: argument checks and paging clamps moved there from the
  // backends, and the conformance suite (which runs against the guarded bundle) is still their judge.
  mutate: [
    'packages/inmemory/src/**/*.ts',
    '!packages/inmemory/src/index.ts',
    'packages/core/src/storage/guard/**/*.ts',
    '!packages/core/src/storage/guard/index.ts',
  ],
  // Workspace packages resolve each other through symlinked node_modules, which a sandbox copy
  // would break; mutate the working tree instead (Stryker restores every file afterwards).
  inPlace: true,
  // vitest does not type-check, so files need no `// @ts-nocheck` (in-place, Stryker would add it to
  // every TypeScript file in the repository and restore them only at the end).
  disableTypeChecks: false,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 95, low: 85, break: null },
  tempDirName: '.stryker-tmp',
};

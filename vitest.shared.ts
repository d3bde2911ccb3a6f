import { defineProject, type TestProjectConfiguration } from 'vitest/config';

// Workspace packages resolve each other's TypeScript sources through the "@floworch/source"
// export condition, so tests never need a prior build. Vite replaces (not extends) its default
// conditions when these are set, so the usual Node ones are listed again.
const conditions = ['@floworch/source', 'module', 'node'];

/** The vitest project config every package uses; `name` is the package folder. */
export function floworchProject(
  name: string,
  test: {
    testTimeout?: number;
    hookTimeout?: number;
    fileParallelism?: boolean;
    globalSetup?: string[];
  } = {},
): TestProjectConfiguration {
  return defineProject({
    resolve: { conditions },
    ssr: { resolve: { conditions } },
    test: { name, include: ['src/**/*.test.ts', 'test/**/*.test.ts'], ...test },
  });
}

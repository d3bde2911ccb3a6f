import { defineConfig } from 'vitest/config';

// The vitest config `pnpm mutate` runs under Stryker: only the in-memory storage conformance
// suite, with workspace packages resolved to their TypeScript sources (as in vitest.shared.ts).
const conditions = ['@floworch/source', 'module', 'node'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: { include: ['packages/testkit/test/inmemory.conformance.test.ts'] },
});

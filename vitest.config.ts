import { defineConfig } from 'vitest/config';

// One vitest run covers every package's *.test.ts, the cross-package suites in test/ and the
// repository checks in scripts/ (`pnpm test` runs them as separate suites by path).
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

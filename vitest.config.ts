import { defineConfig } from 'vitest/config';

// One vitest run covers every package's *.test.ts, the cross-package suites in test/ and the
// repository checks in scripts/ and the benchmark tooling's tests in bench/ (`pnpm test` runs
// them as separate suites; bench/ with its own bench/vitest.config.ts, the same files, so
// `pnpm exec vitest run bench/` and that config run the same tests).
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'bench/loadgen/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});

import { defineConfig } from 'vitest/config';

// The benchmark orchestrator's unit tests: `pnpm exec vitest run --config bench/vitest.config.ts`.
// (The load generator's own tests are Rust: `cargo test -p loadgen`.)
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'loadgen/**'],
    testTimeout: 60_000,
  },
});

#!/usr/bin/env node
// The sluice command of the published package: the compiled CLI (dist/, built by
// scripts/build.ts before `pnpm pack`). Inside the repository `pnpm exec sluice` is
// packages/cli/bin/sluice.js, which runs the TypeScript sources instead.

// The oldest Node.js Sluice runs on: node:zlib has zstd from 22.15.0 and 23.8.0.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15) || (major === 23 && minor < 8)) {
  process.stderr.write(`sluice: this Node.js (${process.version}) is too old; use Node ^22.15.0 or >= 23.8.0\n`);
  process.exit(1);
}
await import('../dist/cli/src/main.js');

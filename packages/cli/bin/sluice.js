#!/usr/bin/env node
// The sluice command. Sluice's TypeScript sources run directly through Node's type stripping:
// on by default from Node 22.18 / 23.6; on Node 22.15–22.17 it sits behind a flag, so the
// command re-runs itself once with --experimental-strip-types there.
import { spawn } from 'node:child_process';
import module from 'node:module';

// The oldest Node.js Sluice runs on: node:zlib has zstd from 22.15.0 and 23.8.0 (an older Node
// fails to load the protocol package). The `engines` field of every package.json says the same,
// and test/node-floor.test.ts runs a broker on 22.15.0.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 15) || (major === 23 && minor < 8)) {
  process.stderr.write(`sluice: this Node.js (${process.version}) is too old; use Node ^22.15.0 or >= 23.8.0\n`);
  process.exit(1);
}

if (!process.features.typescript) {
  if (process.env.SLUICE_STRIP_TYPES_REEXEC === '1') {
    process.stderr.write(`sluice: this Node.js (${process.version}) cannot run TypeScript; use Node ^22.15.0 or >= 23.8.0\n`);
    process.exit(1);
  }
  const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings=ExperimentalWarning', ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, SLUICE_STRIP_TYPES_REEXEC: '1' },
  });
  // The broker's clean shutdown runs on SIGTERM/SIGINT: pass them on.
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  // Node caches what it compiled (the type-stripped sources and V8's code cache) on disk, so a
  // second start neither strips types again (Node's stripper is a WebAssembly module: loading it
  // costs ~25 MiB of RSS and most of the start time) nor recompiles. The cache lives in
  // $NODE_COMPILE_CACHE or <tmpdir>/node-compile-cache, is keyed by file content, and
  // NODE_DISABLE_COMPILE_CACHE=1 turns it off. See bench/README.md, "Where start time and memory go".
  module.enableCompileCache?.();
  await import('../src/main.ts');
}

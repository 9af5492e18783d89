#!/usr/bin/env node
// The sluice command. Sluice's TypeScript sources run directly through Node's type stripping:
// on by default from Node 22.18 / 23.6; on Node 22.12–22.17 it sits behind a flag, so the
// command re-runs itself once with --experimental-strip-types there.
import { spawn } from 'node:child_process';

if (!process.features.typescript) {
  if (process.env.SLUICE_STRIP_TYPES_REEXEC === '1') {
    process.stderr.write(`sluice: this Node.js (${process.version}) cannot run TypeScript; use Node >= 22.12\n`);
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
  await import('../src/main.ts');
}

// Builds what the published packages carry, from the workspace's sources:
// - dist/: every package's src compiled by tsc to JavaScript and .d.ts (tsconfig.build.json),
//   with the workspace imports (`@sluice/broker`, …) rewritten to relative paths, so the
//   tarball is one self-contained package; plus the napi loader (binding.cjs/.d.ts).
// - npm/linux-x64-gnu/: the prebuilt addon copied next to its package.json.
// Node refuses to strip types under node_modules (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING),
// hence the compile step; inside the repository everything still runs from source.
//
// Run: `pnpm --filter sluice run build` (and `pnpm pack` runs it as prepack).

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const PACKAGE = resolve(import.meta.dirname, '..');
const PACKAGES = resolve(PACKAGE, '..');
const DIST = join(PACKAGE, 'dist');
const NATIVE = join(PACKAGES, 'native');
/** Workspace packages compiled into dist/<name>/src, by their import name. */
const WORKSPACE = ['protocol', 'client', 'native', 'broker', 'cli'];
const ADDON = 'sluice.linux-x64-gnu.node';

function compile(): void {
  rmSync(DIST, { recursive: true, force: true });
  const tsc = join(PACKAGES, '..', 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(PACKAGE, 'tsconfig.build.json')], { stdio: 'inherit' });
}

function* files(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

/** `'@sluice/broker'` → `'../../broker/src/index.js'` (relative to the importing file). */
function rewriteWorkspaceImports(): void {
  const specifier = new RegExp(`(['"])@sluice/(${WORKSPACE.join('|')})\\1`, 'g');
  for (const file of files(DIST)) {
    if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const out = text
      .replace(specifier, (_m, quote: string, name: string) => {
        let path = relative(dirname(file), join(DIST, name, 'src', 'index.js'));
        if (!path.startsWith('.')) path = `./${path}`;
        return `${quote}${path}${quote}`;
      })
      // native's `import type … from '../binding.d.ts'` (kept in its .d.ts): the .js spelling
      // resolves to the same declarations without allowImportingTsExtensions in the user's tsconfig.
      .replace(/(from ')(\.{1,2}\/[^']*)\.d\.ts'/g, "$1$2.js'");
    if (out !== text) writeFileSync(file, out);
  }
}

function copyNative(): void {
  for (const name of ['binding.cjs', 'binding.d.ts']) {
    const from = join(NATIVE, name);
    if (!existsSync(from)) throw new Error(`${from} is missing: build the addon first (pnpm --filter @sluice/native run build)`);
    copyFileSync(from, join(DIST, 'native', name));
  }
  copyFileSync(join(NATIVE, ADDON), join(PACKAGE, 'npm', 'linux-x64-gnu', ADDON));
}

compile();
rewriteWorkspaceImports();
copyNative();

// The client's place in the dependency order: cli -> client -> protocol. The client imports only
// @sluice/protocol, Node built-ins and its own files (never the broker, the CLI or the native
// addon, so the broker can use it without a cycle); src/testing/ is for tests only; users reach
// the client through its package entry, not by relative paths into its folder.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLIENT_DIR = resolve(import.meta.dirname, '..');
const PACKAGES_DIR = resolve(CLIENT_DIR, '..');

/** .ts files under `dir` (node_modules and target/ skipped), as paths relative to `dir`. */
function sources(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'target') out.push(...sources(dir, path));
    else if (entry.isFile() && entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

// Static imports and re-exports (a statement starting a line, up to its `from '…'`), side-effect
// imports and dynamic imports, each with a quoted specifier.
const SPECIFIERS = [/^(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]/gm, /^import\s*['"]([^'"]+)['"]/gm, /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g];

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return SPECIFIERS.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]));
}

const isTest = (f: string) => f.endsWith('.test.ts') || f.startsWith('testing/');

describe('@sluice/client boundaries', () => {
  const srcDir = join(CLIENT_DIR, 'src');
  const files = sources(srcDir);

  it('finds its sources and reads their imports', () => {
    expect(files).toContain('index.ts');
    expect(importsOf(join(srcDir, 'connection.ts'))).toContain('@sluice/protocol');
  });

  it('imports only @sluice/protocol, node: built-ins, vitest in tests, and its own files', () => {
    const bad: string[] = [];
    for (const f of files) {
      for (const spec of importsOf(join(srcDir, f))) {
        if (spec === '@sluice/protocol' || spec.startsWith('node:')) continue;
        if (spec === 'vitest' && isTest(f)) continue;
        if (spec.startsWith('.')) {
          const target = relative(srcDir, resolve(srcDir, f, '..', spec));
          if (!target.startsWith('..')) continue;
        }
        bad.push(`${f}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('keeps src/testing/ out of production code and out of the package entry', () => {
    const bad = files
      .filter((f) => !isTest(f))
      .flatMap((f) =>
        importsOf(join(srcDir, f))
          .filter((s) => s.includes('testing/'))
          .map((s) => `${f}: ${s}`),
      );
    expect(bad).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(CLIENT_DIR, 'package.json'), 'utf8')) as {
      exports: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(manifest.exports).toEqual({ '.': './src/index.ts' });
    expect(Object.keys(manifest.dependencies)).toEqual(['@sluice/protocol']);
  });

  it('is reached from other packages through @sluice/client only', () => {
    const bad: string[] = [];
    for (const pkg of readdirSync(PACKAGES_DIR)) {
      if (pkg === 'client') continue;
      const dir = join(PACKAGES_DIR, pkg);
      for (const f of sources(dir)) {
        for (const spec of importsOf(join(dir, f))) {
          if (spec.startsWith('@sluice/client/')) bad.push(`${pkg}/${f}: ${spec}`);
          if (spec.startsWith('.') && resolve(dir, f, '..', spec).startsWith(`${CLIENT_DIR}/`)) bad.push(`${pkg}/${f}: ${spec}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

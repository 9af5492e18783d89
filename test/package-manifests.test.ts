// Every workspace package's manifest points at files that exist: `exports`, `main`, `module`,
// `types` and `bin` entries (packages/cli once exported a src/index.ts that was never written, and
// nothing noticed because nothing imported it). Also checks that workspace dependencies are
// declared as `workspace:*`, so pnpm links the local package instead of fetching one.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

interface Manifest {
  readonly name?: string;
  readonly main?: string;
  readonly module?: string;
  readonly types?: string;
  readonly exports?: unknown;
  readonly bin?: string | Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** Directories of the workspace's packages, as pnpm-workspace.yaml lists them (packages/*, test, bench). */
function workspaceDirs(): string[] {
  const packages = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'package.json')))
    .map((d) => join('packages', d.name));
  return ['.', ...packages, 'test', 'bench'];
}

/** Every file path an `exports` value names (strings at any depth of conditions and subpaths). */
function exportTargets(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(exportTargets);
}

/** [field, path] for every entry point the manifest declares. */
function entryPoints(m: Manifest): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const field of ['main', 'module', 'types'] as const) {
    const value = m[field];
    if (value !== undefined) out.push([field, value]);
  }
  for (const target of exportTargets(m.exports)) out.push(['exports', target]);
  if (typeof m.bin === 'string') out.push(['bin', m.bin]);
  else for (const [name, path] of Object.entries(m.bin ?? {})) out.push([`bin.${name}`, path]);
  return out;
}

function read(dir: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
}

describe('workspace package manifests', () => {
  const dirs = workspaceDirs();

  it('finds the packages', () => {
    expect(dirs).toEqual(expect.arrayContaining(['packages/protocol', 'packages/client', 'packages/cli', 'packages/broker', 'packages/native']));
  });

  it.each(dirs)('%s: every exports/main/types/bin entry names an existing file', (dir) => {
    const missing = entryPoints(read(dir))
      .filter(([, path]) => !path.includes('*')) // a subpath pattern names no single file
      .filter(([, path]) => !existsSync(join(ROOT, dir, path)))
      .map(([field, path]) => `${field}: ${path}`);
    expect(missing).toEqual([]);
  });

  it.each(dirs)('%s: depends on workspace packages as workspace:*', (dir) => {
    const m = read(dir);
    const local = new Set(dirs.filter((d) => d !== '.').map((d) => read(d).name));
    const wrong = Object.entries({ ...m.dependencies, ...m.devDependencies })
      .filter(([name, spec]) => local.has(name) && spec !== 'workspace:*')
      .map(([name, spec]) => `${name}@${spec}`);
    expect(wrong).toEqual([]);
  });
});

// The request path is typed end to end: bytes -> generated request type -> handler -> generated
// response type -> bytes. This keeps it so: no `any` and no `as unknown as` in the source of
// packages/protocol/src and packages/broker/src, nor in the client that speaks the same protocol
// from the other side (packages/client/src). Test files and test-only helpers (the client's
// src/testing/) are exempt; comment lines are not code and are skipped.

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const TREES = ['packages/protocol/src', 'packages/broker/src', 'packages/client/src'];

// Test support (src/testing/ of each package) is never imported by production code.
const isTestOnly = (file: string): boolean => file.includes('/src/testing/');

const FORBIDDEN: ReadonlyArray<readonly [string, RegExp]> = [
  [': any', /:\s*any\b/],
  ['<any>', /<\s*any\s*>/],
  ['as any', /\bas\s+any\b/],
  ['any[]', /\bany\s*\[\]/],
  ['as unknown as', /\bas\s+unknown\s+as\b/],
];

/** `file:line: text (pattern)` for every forbidden use in `source`. */
export function offendingLines(file: string, source: string): string[] {
  const found: string[] = [];
  source.split('\n').forEach((line, i) => {
    const code = line.trim();
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
    // A trailing comment is not code either.
    const withoutComment = code.replace(/\s\/\/.*$/, '');
    for (const [name, pattern] of FORBIDDEN) {
      if (pattern.test(withoutComment)) found.push(`${file}:${i + 1}: ${code} (${name})`);
    }
  });
  return found;
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
  }
  return files;
}

describe('no any on the request path', () => {
  it('finds no `any` or `as unknown as` in packages/protocol/src, packages/broker/src and packages/client/src', () => {
    const offenders: string[] = [];
    const scanned = new Map<string, number>();
    for (const tree of TREES) {
      scanned.set(tree, 0);
      for (const path of sourceFiles(join(REPO, tree))) {
        const file = relative(REPO, path);
        if (isTestOnly(file)) continue;
        scanned.set(tree, (scanned.get(tree) ?? 0) + 1);
        offenders.push(...offendingLines(file, readFileSync(path, 'utf8')));
      }
    }
    // Every tree is really scanned (a moved folder would otherwise pass silently).
    for (const [tree, count] of scanned) expect(count, tree).toBeGreaterThan(5);
    expect([...scanned.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(60);
    if (offenders.length > 0) expect.fail(`\`any\` on the request path (type it, e.g. with the generated types of @sluice/protocol):\n${offenders.join('\n')}`);
  });

  it('recognises each forbidden form, and not words or comments', () => {
    const source = [
      'function f(request: any) {}',
      'const x = <any>y;',
      'const z = y as any;',
      'const list: any[] = [];',
      'const b = a as unknown as B;',
      '// a comment may say: any',
      ' * so may a doc comment: any[]',
      'const many = anything; // as any',
    ].join('\n');
    expect(offendingLines('f.ts', source).map((l) => l.replace(/^f\.ts:(\d+):.*\((.*)\)$/, '$1 $2'))).toEqual([
      '1 : any',
      '2 <any>',
      '3 as any',
      '4 : any',
      '4 any[]',
      '5 as unknown as',
    ]);
  });
});

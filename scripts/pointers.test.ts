// Gate: every pointer from one file of the repository to another still points at something.
// A README's link, anchor or quoted path, a package.json `exports`/`bin`/`main`/`types` entry and
// a tsconfig `extends`/`include`/`exclude`/`files` entry go stale silently when files move; here
// each one must resolve to a file (or heading) inside the repository.
//
// What counts as a pointer in Markdown (fenced code blocks are skipped):
// - a link `[text](target)` that is not a URL: the file must exist inside the repository, and a
//   `#fragment` must be one of the target's headings (GitHub's slugs);
// - a code span that is a relative path, e.g. `packages/broker/src/config.ts`: checked when it
//   starts with `./` or `../`, or when its first segment exists beside the Markdown file, at the
//   repository root or in the package's `src/` (so `MB/s` or `acks=1/-1` are not paths);
// - `"Heading" below` / `"Heading" above`: a heading of that text in the same file.

import { execFileSync } from 'node:child_process';
import { existsSync, globSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
/** The repository's files (tracked, or new and not ignored) whose name passes `keep`, relative to the root. */
function repoFiles(keep: (name: string) => boolean): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return listed
    .split('\0')
    .filter((path) => path !== '' && keep(basename(path)) && existsSync(join(ROOT, path)))
    .sort();
}

const inRepo = (abs: string) => abs === ROOT || abs.startsWith(ROOT + sep);

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const heading of headings(markdown)) {
    const base = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  return slugs;
}

function headings(markdown: string): string[] {
  return withoutCodeBlocks(markdown)
    .split('\n')
    .map((line) => /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1])
    .filter((h): h is string => h !== undefined)
    .map((h) => h.replace(/`/g, ''));
}

function withoutCodeBlocks(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

interface Pointer {
  kind: 'link' | 'path' | 'section';
  target: string;
}

/** The pointers of one Markdown text (see the header for what counts). */
function markdownPointers(markdown: string): Pointer[] {
  const text = withoutCodeBlocks(markdown);
  const out: Pointer[] = [];
  for (const m of text.matchAll(/\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    out.push({ kind: 'link', target });
  }
  for (const m of text.matchAll(/`([^`\n]+)`/g)) {
    const span = m[1].trim();
    if (/^(?:\.\.?\/)*[\w.@-]+(?:\/[\w.@-]+)+\/?$/.test(span) || /^\.\.?\/[\w.@-]+\/?$/.test(span)) out.push({ kind: 'path', target: span });
  }
  for (const m of text.matchAll(/"([^"\n]+)" (?:below|above)/g)) out.push({ kind: 'section', target: m[1] });
  return out;
}

/** What is wrong with one pointer of the Markdown file `file` (repository-relative), or null. */
function checkMarkdownPointer(file: string, markdown: string, pointer: Pointer): string | null {
  const dir = dirname(join(ROOT, file));
  if (pointer.kind === 'section') {
    const wanted = pointer.target.toLowerCase();
    return headings(markdown).some((h) => h.toLowerCase() === wanted) ? null : `"${pointer.target}": no such heading in ${file}`;
  }
  if (pointer.kind === 'link') {
    const [pathPart, fragment] = pointer.target.split('#', 2) as [string, string | undefined];
    const abs = pathPart === '' ? join(ROOT, file) : resolve(dir, decodeURIComponent(pathPart));
    if (!inRepo(abs)) return `${pointer.target}: outside the repository`;
    if (!existsSync(abs)) return `${pointer.target}: no such file`;
    if (fragment !== undefined && fragment !== '') {
      if (!abs.endsWith('.md')) return null; // line anchors (#L10) of source files are not checked
      if (!headingSlugs(readFileSync(abs, 'utf8')).has(fragment)) return `${pointer.target}: no heading #${fragment} in ${relative(ROOT, abs)}`;
    }
    return null;
  }
  const path = pointer.target;
  if (path.startsWith('./') || path.startsWith('../')) {
    const abs = resolve(dir, path);
    if (!inRepo(abs)) return `${path}: outside the repository`;
    return existsSync(abs) ? null : `${path}: no such file`;
  }
  // A bare relative path: relative to the Markdown file, the root, or the package's src/.
  const bases = [dir, ROOT, join(dir, 'src')];
  const first = path.split('/')[0];
  if (!bases.some((b) => existsSync(join(b, first)))) return null; // not a path of this repository (e.g. `MB/s`)
  return bases.some((b) => existsSync(join(b, path))) ? null : `${path}: no such file`;
}

/** Relative file paths named by a package.json: main, types, bin and exports (no patterns). */
function packageJsonPaths(pkg: Record<string, unknown>): string[] {
  const out: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.startsWith('.') && !v.includes('*')) out.push(v);
    } else if (v !== null && typeof v === 'object') {
      for (const inner of Object.values(v)) collect(inner);
    }
  };
  for (const key of ['main', 'types', 'typings', 'module', 'bin', 'exports']) collect(pkg[key]);
  // "main": "index.js" (no leading ./) is a path as well.
  for (const key of ['main', 'types', 'typings']) if (typeof pkg[key] === 'string' && !(pkg[key] as string).startsWith('.')) out.push(pkg[key] as string);
  return out;
}

describe('pointers between the files of the repository', () => {
  const markdownFiles = repoFiles((name) => name.endsWith('.md'));

  it('finds the Markdown files and their pointers', () => {
    expect(markdownFiles).toContain('README.md');
    const kinds = new Set(markdownFiles.flatMap((f) => markdownPointers(readFileSync(join(ROOT, f), 'utf8')).map((p) => p.kind)));
    expect([...kinds]).toEqual(expect.arrayContaining(['link', 'path']));
  });

  it('every link, anchor, quoted path and section named in a Markdown file exists', () => {
    const broken: string[] = [];
    for (const file of markdownFiles) {
      const markdown = readFileSync(join(ROOT, file), 'utf8');
      for (const pointer of markdownPointers(markdown)) {
        const problem = checkMarkdownPointer(file, markdown, pointer);
        if (problem !== null) broken.push(`${file}: ${problem}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every package.json's main, types, bin and exports path exists", () => {
    const broken: string[] = [];
    for (const file of repoFiles((name) => name === 'package.json')) {
      const pkg = JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;
      for (const path of packageJsonPaths(pkg)) {
        const abs = resolve(ROOT, dirname(file), path);
        if (!inRepo(abs) || !existsSync(abs)) broken.push(`${file}: ${path}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every tsconfig's extends, files, include and exclude entry names something that exists", () => {
    const broken: string[] = [];
    for (const file of repoFiles((name) => /^tsconfig.*\.json$/.test(name))) {
      const parsed = ts.parseConfigFileTextToJson(file, readFileSync(join(ROOT, file), 'utf8'));
      if (parsed.error !== undefined) {
        broken.push(`${file}: ${ts.flattenDiagnosticMessageText(parsed.error.messageText, '\n')}`);
        continue;
      }
      const config = parsed.config as { extends?: string | string[]; files?: string[]; include?: string[]; exclude?: string[] };
      const dir = join(ROOT, dirname(file));
      for (const ext of [config.extends ?? []].flat()) {
        if (ext.startsWith('.') && !existsSync(resolve(dir, ext))) broken.push(`${file}: extends ${ext}`);
      }
      for (const path of config.files ?? []) if (!existsSync(resolve(dir, path))) broken.push(`${file}: files ${path}`);
      for (const [key, patterns] of [
        ['include', config.include ?? []],
        ['exclude', config.exclude ?? []],
      ] as const) {
        for (const pattern of patterns) {
          // node_modules patterns guard against installs, which may not have happened yet.
          if (pattern.includes('node_modules')) continue;
          const matches = /[*?[{]/.test(pattern)
            ? globSync(pattern, { cwd: dir, exclude: (p) => p.includes('node_modules') })
            : existsSync(resolve(dir, pattern))
              ? [pattern]
              : [];
          if (matches.length === 0) broken.push(`${file}: ${key} ${pattern} matches nothing`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('the pointer checker itself', () => {
  it('reads links, anchors, quoted paths and section names, and skips code blocks and URLs', () => {
    const md = [
      '# Title',
      'See [the cli](packages/cli/README.md#usage) and [x](https://example.com), `packages/broker/src/config.ts`, `MB/s`.',
      'See "What works" below.',
      '```sh',
      'cat `not/a/pointer.md`',
      '```',
    ].join('\n');
    expect(markdownPointers(md)).toEqual([
      { kind: 'link', target: 'packages/cli/README.md#usage' },
      { kind: 'path', target: 'packages/broker/src/config.ts' },
      { kind: 'path', target: 'MB/s' },
      { kind: 'section', target: 'What works' },
    ]);
  });

  it("makes GitHub's heading slugs", () => {
    expect([...headingSlugs('# Use it\n## Durability and failures\n### What clients see when something fails\n## Use it\n## `sluice.` keys (v2)')]).toEqual([
      'use-it',
      'durability-and-failures',
      'what-clients-see-when-something-fails',
      'use-it-1',
      'sluice-keys-v2',
    ]);
  });

  it('reads the paths of a package.json', () => {
    expect(
      packageJsonPaths({ main: 'index.js', bin: { sluice: './bin/sluice.js' }, exports: { '.': { import: './src/index.ts' }, './x/*': './src/x/*.ts' } }),
    ).toEqual(['./bin/sluice.js', './src/index.ts', 'index.js']);
  });

  it('resolves quoted paths against the file, the root and src/, and rejects paths outside the repository', () => {
    const check = (target: string) => checkMarkdownPointer('packages/cli/README.md', '', { kind: 'path', target });
    expect(check('packages/cli/package.json')).toBeNull(); // from the root
    expect(check('bin/sluice.js')).toBeNull(); // beside the README
    expect(check('commands/topics.ts')).toBeNull(); // in src/
    expect(check('packages/cli/missing.ts')).toBe('packages/cli/missing.ts: no such file');
    expect(check('MB/s')).toBeNull();
    expect(check('../../../outside.md')).toBe('../../../outside.md: outside the repository');
  });
});

// Long reliability runs (crash harness, fuzzer) commit their summaries as
// bench/results/<ISO time>-<kind>-<mode>.json. The top-level numbers are what scripts add up
// across runs (the reliability goals count totals): `cycles`, `lost`, `duplicates` for crash runs,
// `seconds`, `crashes` for fuzz runs; every artifact names its commit, whether the tree was
// dirty, and the seed that replays it.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** The commit the run measured and whether the working tree differed from it. */
export function gitState(): { commit: string; gitDirty: boolean } {
  const commit = git(['rev-parse', 'HEAD']) ?? 'unknown';
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return { commit, gitDirty: status === null || status.length > 0 };
}

/** `2026-12-06T15:40:00Z` → `2026-12-06T15-40-00Z` (a file name without colons). */
export function isoFileStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * Writes `summary` (plus the commit at the start, dirtiness over the run, start time and the machine's load) as
 * bench/results/<start>-<kind>-<mode>.json and returns the path.
 */
export function writeResultArtifact(
  kind: 'crash' | 'fuzz',
  mode: string,
  startedAt: Date,
  atStart: { commit: string; gitDirty: boolean },
  summary: Record<string, unknown>,
): string {
  const atEnd = gitState();
  const artifact = {
    kind,
    mode,
    // The code that ran is the code at the start: a checkout during a long run must not relabel it.
    commit: atStart.commit,
    gitDirty: atStart.gitDirty || atEnd.commit !== atStart.commit || atEnd.gitDirty,
    startedAt: startedAt.toISOString(),
    ...summary,
    machine: { cpus: cpus().length, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
  };
  const path = join(RESULTS_DIR, `${isoFileStamp(startedAt)}-${kind}-${mode}.json`);
  writeFileSync(path, `${JSON.stringify(artifact, null, 2)}\n`);
  return path;
}

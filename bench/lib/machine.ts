// The machine a run was taken on, stored with its results: numbers from a 2-vCPU VM on
// loopback do not transfer to other machines, so every result file says where it came from.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Machine {
  cpuModel: string;
  cores: number;
  kernel: string;
  memoryGiB: number;
  node: string;
  rustc: string | null;
  /** Filesystem holding the brokers' data dirs. */
  filesystem: string | null;
  loadAverageAtStart: number[];
  gitCommit: string | null;
  /** Uncommitted changes in the tree the run was built from. */
  gitDirty: boolean | null;
}

function tryRun(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function cpuModel(cpuinfo: string): string {
  const m = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  return m === null ? 'unknown' : m[1]!.trim();
}

/** The commit checked out and whether the tree has uncommitted changes (null: git failed). */
export function gitState(): { commit: string | null; dirty: boolean | null } {
  const status = tryRun('git', ['status', '--porcelain', '--untracked-files=no']);
  return { commit: tryRun('git', ['rev-parse', 'HEAD']), dirty: status === null ? null : status !== '' };
}

/** Whether a run's code was the commit it started from throughout: brokers are spawned from the
 * working tree during the run, so a change at any point (an edit, a commit, a checkout) makes its
 * results a dirty tree's. */
export function dirtyOverRun(start: { commit: string | null; dirty: boolean | null }, end: { commit: string | null; dirty: boolean | null }): boolean | null {
  if (start.dirty === true || end.dirty === true || start.commit !== end.commit) return true;
  return start.dirty === null || end.dirty === null ? null : false;
}

export function describeMachine(dataDir: string): Machine {
  let info = '';
  try {
    info = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux; the model stays unknown
  }
  const status = tryRun('git', ['status', '--porcelain', '--untracked-files=no']);
  return {
    cpuModel: cpuModel(info),
    cores: cpus().length,
    kernel: release(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    rustc: tryRun('rustc', ['--version']),
    filesystem: tryRun('df', ['--output=fstype', dataDir])?.split('\n')[1]?.trim() ?? null,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    gitCommit: tryRun('git', ['rev-parse', 'HEAD']),
    gitDirty: status === null ? null : status !== '',
  };
}

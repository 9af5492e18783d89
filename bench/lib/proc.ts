// Reads a broker process's own resource use from /proc — the node or java process itself, never
// a wrapper: CPU (utime+stime of the whole thread group, /proc/PID/stat), context switches
// (summed over /proc/PID/task/*/status: the process-level status file only counts the main
// thread), RSS (/proc/PID/status) and read/write syscall counts and bytes (/proc/PID/io; these
// count read/write-family calls and sendfile, not splice).

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface StatFields {
  utimeTicks: number;
  stimeTicks: number;
  threads: number;
}

export interface StatusFields {
  voluntaryCtxt: number;
  involuntaryCtxt: number;
  vmRssKb: number;
}

export interface IoFields {
  rchar: number;
  wchar: number;
  syscr: number;
  syscw: number;
}

export interface ProcSample {
  /** performance.now() when taken. */
  atMs: number;
  stat: StatFields;
  /** Context switches summed over the process's live threads. */
  voluntaryCtxt: number;
  involuntaryCtxt: number;
  vmRssKb: number;
  io: IoFields | null;
}

/** What a process used between two samples. */
export interface ProcDelta {
  seconds: number;
  cpuUserS: number;
  cpuSysS: number;
  cpuS: number;
  voluntaryCtxt: number;
  involuntaryCtxt: number;
  io: IoFields | null;
}

/** utime, stime (fields 14, 15) and num_threads (20) of a stat line. The command name may hold
 * spaces and parentheses, so fields are counted after the last ')'. */
export function parseStat(text: string): StatFields {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`unparsable stat line: ${text.slice(0, 80)}`);
  const f = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] is field 3 (state), so field n is f[n - 3].
  return { utimeTicks: Number(f[11]), stimeTicks: Number(f[12]), threads: Number(f[17]) };
}

function statusNumber(text: string, key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
  return m === null ? 0 : Number(m[1]);
}

export function parseStatus(text: string): StatusFields {
  return {
    voluntaryCtxt: statusNumber(text, 'voluntary_ctxt_switches'),
    involuntaryCtxt: statusNumber(text, 'nonvoluntary_ctxt_switches'),
    vmRssKb: statusNumber(text, 'VmRSS'),
  };
}

export function parseIo(text: string): IoFields {
  return {
    rchar: statusNumber(text, 'rchar'),
    wchar: statusNumber(text, 'wchar'),
    syscr: statusNumber(text, 'syscr'),
    syscw: statusNumber(text, 'syscw'),
  };
}

let ticks: number | null = null;

/** Clock ticks per second (USER_HZ) for utime/stime. */
export function ticksPerSecond(): number {
  if (ticks === null) {
    const out = execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim();
    ticks = Number(out) > 0 ? Number(out) : 100;
  }
  return ticks;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function sampleProcess(pid: number): ProcSample {
  const atMs = performance.now();
  const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const status = parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
  let voluntaryCtxt = 0;
  let involuntaryCtxt = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const t = readOrNull(`/proc/${pid}/task/${tid}/status`);
    if (t === null) continue; // the thread ended between listing and reading
    const s = parseStatus(t);
    voluntaryCtxt += s.voluntaryCtxt;
    involuntaryCtxt += s.involuntaryCtxt;
  }
  const ioText = readOrNull(`/proc/${pid}/io`);
  return { atMs, stat, voluntaryCtxt, involuntaryCtxt, vmRssKb: status.vmRssKb, io: ioText === null ? null : parseIo(ioText) };
}

export function diffSamples(a: ProcSample, b: ProcSample, hz: number = ticksPerSecond()): ProcDelta {
  const cpuUserS = (b.stat.utimeTicks - a.stat.utimeTicks) / hz;
  const cpuSysS = (b.stat.stimeTicks - a.stat.stimeTicks) / hz;
  return {
    seconds: (b.atMs - a.atMs) / 1000,
    cpuUserS,
    cpuSysS,
    cpuS: cpuUserS + cpuSysS,
    // Threads that ended inside the window take their switches with them; never report < 0.
    voluntaryCtxt: Math.max(0, b.voluntaryCtxt - a.voluntaryCtxt),
    involuntaryCtxt: Math.max(0, b.involuntaryCtxt - a.involuntaryCtxt),
    io:
      a.io === null || b.io === null
        ? null
        : { rchar: b.io.rchar - a.io.rchar, wchar: b.io.wchar - a.io.wchar, syscr: b.io.syscr - a.io.syscr, syscw: b.io.syscw - a.io.syscw },
  };
}

/** Current resident set size in KiB. */
export function rssKb(pid: number): number {
  return parseStatus(readFileSync(`/proc/${pid}/status`, 'utf8')).vmRssKb;
}

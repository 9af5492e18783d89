// What a broker process holds, read from /proc: resident memory and open file descriptors.

import { readdirSync, readFileSync } from 'node:fs';

/** Resident set size in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** Open file descriptors (entries of /proc/PID/fd). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** The soft limit on open files (Max open files in /proc/PID/limits); Infinity if unlimited. */
export function fdLimit(pid: number): number {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (m === null) throw new Error(`no open-files limit for ${pid}`);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

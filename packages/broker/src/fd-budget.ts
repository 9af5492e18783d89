// How many more files this process may open, read from /proc (Linux): the soft RLIMIT_NOFILE
// minus the descriptors open now. Topic and partition creation check it first, so one request
// for thousands of partitions is refused up front instead of running the broker out of file
// descriptors half-way — which would fail accepts, segment rolls and log opens of every other
// client at the same time.

import { readdirSync, readFileSync } from 'node:fs';

/** Files a new partition holds open: its active segment's log, offset index and time index, plus one to spare. */
export const FILES_PER_NEW_PARTITION = 4;

/** Descriptors kept free for connections, segment rolls and everything else. */
export const RESERVED_FILES = 1024;

/** Soft open-files limit minus open descriptors, or null where /proc cannot tell. */
export function openFileHeadroom(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
    if (m === null || m[1] === 'unlimited') return null;
    return Number(m[1]) - readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** Why `count` new partitions cannot be opened now, or null when they fit. */
export function newPartitionsProblem(count: number, headroom: number | null = openFileHeadroom()): string | null {
  if (headroom === null) return null;
  const needed = count * FILES_PER_NEW_PARTITION;
  if (needed <= headroom - RESERVED_FILES) return null;
  return `${count} new partitions need about ${needed} more open files; this broker can open ${Math.max(0, headroom - RESERVED_FILES)} more (raise its open-files limit)`;
}

// The kernel's memory work during a measured window, from /proc/vmstat: how much the page cache
// wrote back to disk and how much of it was reclaimed to make room. An append into new pages
// pays for both once dirty pages pass the writeback threshold or free memory runs out, so these
// say whether a produce cell or an append probe ran in the same memory state as another.

import { readFileSync } from 'node:fs';

const PAGE_BYTES = 4096;

export type Vmstat = Record<string, number>;

export function parseVmstat(text: string): Vmstat {
  const out: Vmstat = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k !== undefined && v !== undefined && k !== '') out[k] = Number(v);
  }
  return out;
}

export function readVmstat(): Vmstat | null {
  try {
    return parseVmstat(readFileSync('/proc/vmstat', 'utf8'));
  } catch {
    return null; // not Linux
  }
}

/** Bytes written back, reclaimed (by kswapd and directly by allocating tasks) and free at the
 * start, over one window. */
export interface MemoryWindow {
  writtenBackBytes: number;
  reclaimedBytes: number;
  directReclaimedBytes: number;
  freeBytesAtStart: number;
}

export function memoryWindow(start: Vmstat | null, end: Vmstat | null): MemoryWindow | null {
  if (start === null || end === null) return null;
  const d = (k: string) => ((end[k] ?? 0) - (start[k] ?? 0)) * PAGE_BYTES;
  return {
    writtenBackBytes: d('nr_written'),
    reclaimedBytes: d('pgsteal_kswapd') + d('pgsteal_direct'),
    directReclaimedBytes: d('pgsteal_direct'),
    freeBytesAtStart: (start.nr_free_pages ?? 0) * PAGE_BYTES,
  };
}

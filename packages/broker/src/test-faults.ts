// `sluice.test.fault.storage` (tests only): storage faults the broker injects into named
// partitions, so end-to-end tests can make one partition's disk fail with EIO (which a real file
// system will not do on demand; ENOSPC is tested on a real small tmpfs instead). Each entry is
// `<topic>-<partition>:<op>:<skip>:<errno>` — op write|sync|read|allocate, errno EIO|ENOSPC —
// and makes the (skip+1)-th call of that operation on that partition's files fail, once. A
// partition with faults goes through the fault-injecting storage of the native log.

import type { TestFault } from '@sluice/native';

const ENTRY = /^(.+-\d+):(write|sync|read|allocate):(\d+):(EIO|ENOSPC)$/;

/** The problem with a config value, or null (the config validator). */
export function testFaultsProblem(entries: readonly string[]): string | null {
  for (const entry of entries) {
    if (!ENTRY.test(entry)) return `"${entry}" is not <topic>-<partition>:<write|sync|read|allocate>:<skip>:<EIO|ENOSPC>`;
  }
  return null;
}

/** Faults by partition directory name (`topic-N`). */
export function parseTestFaults(entries: readonly string[]): Map<string, TestFault[]> {
  const byPartition = new Map<string, TestFault[]>();
  for (const entry of entries) {
    const m = ENTRY.exec(entry);
    if (m === null) throw new Error(`BUG: unvalidated sluice.test.fault.storage entry ${entry}`);
    const faults = byPartition.get(m[1]) ?? [];
    faults.push({ op: m[2] as TestFault['op'], skip: Number(m[3]), errno: m[4] as TestFault['errno'] });
    byPartition.set(m[1], faults);
  }
  return byPartition;
}

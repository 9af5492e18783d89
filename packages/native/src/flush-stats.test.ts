import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FLUSH_BUCKET_BOUNDS_SECONDS, flushStats } from './flush-stats.ts';
import { PartitionLog } from './log.ts';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('has increasing bucket bounds and one more bucket than bounds', () => {
  expect(FLUSH_BUCKET_BOUNDS_SECONDS.length).toBeGreaterThan(5);
  for (let i = 1; i < FLUSH_BUCKET_BOUNDS_SECONDS.length; i++) {
    expect(FLUSH_BUCKET_BOUNDS_SECONDS[i]).toBeGreaterThan(FLUSH_BUCKET_BOUNDS_SECONDS[i - 1]);
  }
  expect(flushStats().buckets).toHaveLength(FLUSH_BUCKET_BOUNDS_SECONDS.length + 1);
});

it('counts and times a flush run on the libuv pool', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-flush-stats-'));
  const log = PartitionLog.open(join(dir, 't-0'), { appendMode: 'mmap', preallocateStepBytes: 4096 });
  const before = flushStats();
  await log.flush();
  await log.flush();
  const after = flushStats();
  log.close();
  // Process-wide counters: at least our two flushes (vitest runs files in other workers).
  expect(after.count - before.count).toBeGreaterThanOrEqual(2);
  const sum = (b: number[]) => b.reduce((a, n) => a + n, 0);
  expect(sum(after.buckets) - sum(before.buckets)).toBeGreaterThanOrEqual(2);
  expect(after.sumSeconds).toBeGreaterThan(before.sumSeconds);
  expect(after.failures).toBe(before.failures);
});

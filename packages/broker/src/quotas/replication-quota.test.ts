// The replication throttle's parts: which partitions a throttled-replicas list throttles on which
// broker, and Kafka's quota arithmetic (exceeded once the windowed rate passes the bound, back
// under it as time passes; only out-of-sync replicas are held back).
import { describe, expect, test } from 'vitest';
import type { Partition } from '../partition.ts';
import { ReplicationQuota, throttledPartitions } from './replication-quota.ts';

const WINDOW = { samples: 11, windowMs: 1000 };

function partition(index: number, lists: Record<string, string[]>): Partition {
  return { index, topic: { config: { get: (name: string) => lists[name] ?? [] } } } as unknown as Partition;
}

describe('throttledPartitions', () => {
  test('the entries naming this broker; * is every partition', () => {
    const list = ['0:1', '1:2', '2:1', '3:3'];
    expect([...(throttledPartitions(list, 1) as Set<number>)]).toEqual([0, 2]);
    expect([...(throttledPartitions(list, 4) as Set<number>)]).toEqual([]);
    expect(throttledPartitions(['*'], 7)).toBe('all');
  });
});

describe('ReplicationQuota', () => {
  test('a partition is throttled on the side whose list names this broker', () => {
    const leader = new ReplicationQuota('leader', 1, WINDOW, () => 1000);
    const follower = new ReplicationQuota('follower', 1, WINDOW, () => 1000);
    const p = partition(0, { 'leader.replication.throttled.replicas': ['0:1', '0:2'], 'follower.replication.throttled.replicas': ['0:3'] });
    expect(leader.isThrottled(p)).toBe(true);
    expect(follower.isThrottled(p)).toBe(false);
    expect(leader.isThrottled(partition(1, { 'leader.replication.throttled.replicas': ['0:1'] }))).toBe(false);
    expect(follower.isThrottled(partition(5, { 'follower.replication.throttled.replicas': ['*'] }))).toBe(true);
  });

  test("Kafka's Rate: exceeded past bound x (samples - 1) windows at first, then back under as windows age", () => {
    let rate = 1000;
    const q = new ReplicationQuota('leader', 1, WINDOW, () => rate);
    const p = partition(0, { 'leader.replication.throttled.replicas': ['*'] });
    const t0 = 1_000_000;
    // A fresh rate divides by at least 10 windows: 10 000 bytes at once is exactly the bound.
    q.record(10_000, t0);
    expect(q.exceeded(t0)).toBe(false);
    q.record(1, t0);
    expect(q.exceeded(t0)).toBe(true);
    expect(q.holdsBack(p, false, t0)).toBe(true);
    expect(q.holdsBack(p, true, t0)).toBe(false); // in sync: never held back
    expect(q.partitionsHeldBack).toBe(1);
    expect(q.delayMs(t0)).toBeGreaterThan(0);
    // The rate divides by 10 windows until more than that has passed: still exceeded 5 s later,
    // under the bound once the bytes are spread over 10.5 s.
    expect(q.exceeded(t0 + 5000)).toBe(true);
    expect(q.exceeded(t0 + 10_500)).toBe(false);
    // After the whole window has passed, the bytes are forgotten.
    expect(q.measured(t0 + 11_000)).toBe(0);
    // Unthrottled (Long.MAX_VALUE, the default): never exceeded.
    rate = Number.MAX_SAFE_INTEGER;
    q.record(1e12, t0 + 12_000);
    expect(q.exceeded(t0 + 12_000)).toBe(false);
    expect(q.bytesRecorded).toBe(10_001 + 1e12);
  });

  test('the bound is read at every use (a dynamic config change applies at once)', () => {
    let rate = 100;
    const q = new ReplicationQuota('follower', 1, WINDOW, () => rate);
    q.record(5000, 0);
    expect(q.exceeded(0)).toBe(true);
    rate = 10_000;
    expect(q.exceeded(0)).toBe(false);
  });
});

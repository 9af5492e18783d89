// The fetch session cache (KIP-227): ids, epochs, slots, and which session an eviction takes.

import { describe, expect, test } from 'vitest';
import { FetchSessionCache, nextEpoch, partitionKey, type SessionPartition } from './fetch-session-cache.ts';

function partitions(n: number, topic = 't'): SessionPartition[] {
  return Array.from({ length: n }, (_, i) => ({
    topic,
    partition: i,
    fetchOffset: 0,
    partitionMaxBytes: 1024,
    currentLeaderEpoch: -1,
    lastFetchedEpoch: -1,
    fetcherLogStartOffset: -1,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
  }));
}

function cacheWith(maxSlots: number) {
  const clock = { now: 1_000_000 };
  let next = 0;
  const ids = [7, 7, 0, 9, 11, 13, 15, 17, 19, 21];
  const cache = new FetchSessionCache({ maxSlots, now: () => clock.now, randomId: () => ids[next++ % ids.length]! });
  return { cache, clock };
}

describe('FetchSessionCache', () => {
  test('a session gets a fresh non-zero id, epoch 1, and its partitions in order', () => {
    const { cache } = cacheWith(10);
    const a = cache.create(false, false, partitions(3))!;
    const b = cache.create(false, false, partitions(2))!;
    // The id source repeated 7 and offered 0: neither is handed out twice or at all.
    expect(a.id).toBe(7);
    expect(b.id).toBe(9);
    expect(a.epoch).toBe(1);
    expect([...a.partitions.keys()]).toEqual([0, 1, 2].map((p) => partitionKey('t', p)));
    expect(cache.get(7)).toBe(a);
    expect(cache.size).toBe(2);
    expect(cache.partitionsCached).toBe(5);
    expect(cache.remove(7)).toBe(a);
    expect(cache.get(7)).toBeUndefined();
    expect(cache.partitionsCached).toBe(2);
  });

  test('epochs run 1 … 2^31-1 and wrap to 1; -1 stays final', () => {
    expect(nextEpoch(0)).toBe(1);
    expect(nextEpoch(41)).toBe(42);
    expect(nextEpoch(0x7fffffff)).toBe(1);
    expect(nextEpoch(-1)).toBe(-1);
  });

  test('resizing a session keeps the partition count; moveToEnd reorders', () => {
    const { cache } = cacheWith(10);
    const s = cache.create(false, false, partitions(3))!;
    const before = s.size;
    s.partitions.delete(partitionKey('t', 1));
    for (const p of partitions(2, 'u')) s.partitions.set(partitionKey(p.topic, p.partition), p);
    cache.resized(s, before);
    expect(cache.partitionsCached).toBe(4);
    s.moveToEnd(partitionKey('t', 0));
    expect([...s.partitions.values()].map((p) => `${p.topic}${p.partition}`)).toEqual(['t2', 'u0', 'u1', 't0']);
  });

  test('0 slots: no sessions at all', () => {
    const { cache } = cacheWith(0);
    expect(cache.create(false, false, partitions(1))).toBeNull();
    expect(cache.size).toBe(0);
  });

  test('full: a session used within the last 120 s is never evicted; the newcomer gets none', () => {
    const { cache, clock } = cacheWith(2);
    const a = cache.create(false, false, partitions(1))!;
    clock.now += 100_000;
    const b = cache.create(true, false, partitions(1))!;
    clock.now += 19_999;
    // a was last used 119.999 s ago: still protected.
    expect(cache.create(true, false, partitions(100))).toBeNull();
    expect(cache.evictions).toBe(0);
    clock.now += 1;
    // Now a is 120 s unused and b is not: a goes, whatever the newcomer's value.
    const c = cache.create(false, false, partitions(1))!;
    expect(c).not.toBeNull();
    expect(cache.get(a.id)).toBeUndefined();
    expect(cache.get(b.id)).toBe(b);
    expect(cache.evictions).toBe(1);
  });

  test('a touch keeps a session; among stale ones a consumer goes before a follower, a smaller before a larger', () => {
    const { cache, clock } = cacheWith(4);
    const follower = cache.create(true, false, partitions(1))!;
    const bigConsumer = cache.create(false, false, partitions(50))!;
    const smallConsumer = cache.create(false, false, partitions(5))!;
    const touched = cache.create(false, false, partitions(1))!;
    clock.now += 200_000;
    cache.touch(touched);
    expect(cache.create(false, false, partitions(1))).not.toBeNull();
    expect(cache.get(smallConsumer.id)).toBeUndefined();
    expect(cache.create(false, false, partitions(1))).not.toBeNull();
    expect(cache.get(bigConsumer.id)).toBeUndefined();
    expect(cache.create(false, false, partitions(1))).not.toBeNull();
    expect(cache.get(follower.id)).toBeUndefined();
    // Only the touched session and the three newcomers remain, all used just now.
    expect(cache.get(touched.id)).toBe(touched);
    expect(cache.create(true, false, partitions(1))).toBeNull();
    expect(cache.evictions).toBe(3);
    expect(cache.size).toBe(4);
    expect(cache.partitionsCached).toBe(4);
  });
});

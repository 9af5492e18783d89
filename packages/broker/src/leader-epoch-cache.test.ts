import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { divergenceOffset } from './cluster/replica-fetcher.ts';
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from './leader-epoch-cache.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-epochs-'));
  dirs.push(dir);
  return dir;
};

test("epochs start where assigned, end where the next starts (the latest at the log end), persist in Kafka's format", () => {
  const dir = fresh();
  const cache = new LeaderEpochCache(dir);
  expect(cache.endOffsetFor(5, 100)).toEqual({ epoch: -1, endOffset: -1 });
  cache.assign(0, 0);
  cache.assign(2, 40);
  cache.assign(1, 30); // older than the latest: ignored
  cache.assign(5, 90);
  expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), 'utf8')).toBe('0\n3\n0 0\n2 40\n5 90\n');
  const reloaded = new LeaderEpochCache(dir);
  expect(reloaded.all).toEqual(cache.all);
  expect(reloaded.endOffsetFor(0, 120)).toEqual({ epoch: 0, endOffset: 40 });
  expect(reloaded.endOffsetFor(1, 120)).toEqual({ epoch: 0, endOffset: 40 }); // unknown epoch 1: the largest below it
  expect(reloaded.endOffsetFor(3, 120)).toEqual({ epoch: 2, endOffset: 90 });
  expect(reloaded.endOffsetFor(5, 120)).toEqual({ epoch: 5, endOffset: 120 });
  reloaded.truncateFromEnd(50);
  expect(reloaded.all).toEqual([
    { epoch: 0, startOffset: 0 },
    { epoch: 2, startOffset: 40 },
  ]);
  expect(new LeaderEpochCache(dir).latestEpoch).toBe(2);
});

test("a follower truncates to where its log diverges from the leader's (KIP-279)", () => {
  // Follower: epoch 1 from 0, epoch 2 from 10 (written while it led, never replicated), log end 15.
  const follower = new LeaderEpochCache(fresh());
  follower.assign(1, 0);
  follower.assign(2, 10);
  // The new leader never saw epoch 2: asked about it, it answers its epoch 1, which ends at 12
  // in its log (it got more of epoch 1 than the follower's epoch 1 holds).
  expect(divergenceOffset(follower, 15, 8, 0, { leaderEpoch: 1, endOffset: 12 })).toBe(10);
  // Same epoch on both sides: the leader's end of it, bounded by ours.
  expect(divergenceOffset(follower, 15, 8, 0, { leaderEpoch: 2, endOffset: 13 })).toBe(13);
  expect(divergenceOffset(follower, 11, 8, 0, { leaderEpoch: 2, endOffset: 13 })).toBe(11);
  // The leader knows no such epoch: only the high watermark is certain.
  expect(divergenceOffset(follower, 15, 8, 0, { leaderEpoch: -1, endOffset: -1 })).toBe(8);
});

test("Kafka's endOffsetFor edges: older than every epoch, later than the latest, negative", () => {
  const cache = new LeaderEpochCache(fresh());
  cache.assign(2, 40);
  cache.assign(5, 90);
  // Older than the first known epoch: itself, ending where the first known one starts.
  expect(cache.endOffsetFor(1, 120)).toEqual({ epoch: 1, endOffset: 40 });
  // Later than the latest: unknown (the latest is always the largest epoch this log has).
  expect(cache.endOffsetFor(6, 120)).toEqual({ epoch: -1, endOffset: -1 });
  expect(cache.endOffsetFor(-1, 120)).toEqual({ epoch: -1, endOffset: -1 });
});

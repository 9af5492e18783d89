// Partition's offsets over a stand-in log: the high watermark is a field the partition advances
// (on a single node, every real append commits at once), never past the log end and never back;
// the last stable offset follows it; a retried duplicate moves nothing; every move is announced.

import { describe, expect, test } from 'vitest';
import type { AppendResult, PartitionLog } from '@sluice/native';
import { Partition } from './partition.ts';
import { Topic } from './topics.ts';

/** The part of PartitionLog that append uses: `records` bytes count as that many records. */
class StandInLog {
  logEndOffset: number;
  logStartOffset = 0;
  /** The native producer state's first unstable offset (-1: no open transaction). */
  firstUnstableOffset = -1;
  readonly markers: Array<{ producerId: number; commit: boolean }> = [];
  readonly epochs: number[] = [];
  nextIsDuplicate = false;

  constructor(logEndOffset = 0) {
    this.logEndOffset = logEndOffset;
  }

  append(records: Uint8Array, _nowMs: number, leaderEpoch: number): AppendResult {
    this.epochs.push(leaderEpoch);
    const base = this.logEndOffset;
    const duplicate = this.nextIsDuplicate;
    this.nextIsDuplicate = false;
    if (!duplicate) this.logEndOffset += records.length;
    return {
      baseOffset: base,
      lastOffset: base + records.length - 1,
      logAppendTime: -1,
      maxTimestamp: -1,
      recordCount: records.length,
      logStartOffset: 0,
      rolled: false,
      duplicate,
    };
  }

  /** A marker ends the (one) open transaction here. */
  appendTxnMarker(producerId: number, _epoch: number, _coordinatorEpoch: number, commit: boolean): AppendResult {
    this.markers.push({ producerId, commit });
    this.firstUnstableOffset = -1;
    const base = this.logEndOffset++;
    return { baseOffset: base, lastOffset: base, logAppendTime: -1, maxTimestamp: -1, recordCount: 1, logStartOffset: 0, rolled: false, duplicate: false };
  }
}

function partitionOver(log: StandInLog): { partition: Partition; changes: number[] } {
  const topic = new Topic('t', '0123456789abcdef0123456789abcdef', undefined as never);
  const partition = new Partition(topic, 0, '/nonexistent', '/nonexistent', log as unknown as PartitionLog);
  topic.partitions.push(partition);
  const changes: number[] = [];
  topic.onPartitionChange = (p) => changes.push(p.highWatermark);
  return { partition, changes };
}

describe('Partition offsets', () => {
  test('opens with everything in the log committed', () => {
    const { partition } = partitionOver(new StandInLog(7));
    expect(partition.logEndOffset).toBe(7);
    expect(partition.highWatermark).toBe(7);
    expect(partition.lastStableOffset).toBe(7);
  });

  test('append advances the high watermark and the last stable offset to the new log end, and announces it', () => {
    const log = new StandInLog();
    const { partition, changes } = partitionOver(log);
    partition.append(new Uint8Array(3), 0);
    expect(partition.highWatermark).toBe(3);
    expect(partition.lastStableOffset).toBe(3);
    partition.append(new Uint8Array(2), 0);
    expect(partition.highWatermark).toBe(5);
    expect(changes).toEqual([3, 5]);
    expect(log.epochs).toEqual([0, 0]); // stamped with the partition's leader epoch
  });

  test("the high watermark is the partition's own: appends behind its back do not move it", () => {
    const log = new StandInLog();
    const { partition } = partitionOver(log);
    log.append(new Uint8Array(4), 0, 0); // e.g. a follower's fetch, before cluster mode commits it
    expect(partition.logEndOffset).toBe(4);
    expect(partition.highWatermark).toBe(0);
    partition.advanceHighWatermark(2);
    expect(partition.highWatermark).toBe(2);
    expect(partition.lastStableOffset).toBe(2);
  });

  test('a retried duplicate moves nothing and announces nothing', () => {
    const log = new StandInLog();
    const { partition, changes } = partitionOver(log);
    partition.append(new Uint8Array(1), 0);
    log.nextIsDuplicate = true;
    const again = partition.append(new Uint8Array(1), 0);
    expect(again.duplicate).toBe(true);
    expect(partition.highWatermark).toBe(1);
    expect(changes).toEqual([1]);
  });

  test('the high watermark never moves back and never passes the log end', () => {
    const log = new StandInLog(5);
    const { partition } = partitionOver(log);
    partition.advanceHighWatermark(3);
    expect(partition.highWatermark).toBe(5);
    expect(() => partition.advanceHighWatermark(6)).toThrow(/past the log end/);
    expect(partition.highWatermark).toBe(5);
  });

  test('the last stable offset stops at the first open transaction; a marker lets it move to the high watermark', () => {
    const log = new StandInLog();
    const { partition, changes } = partitionOver(log);
    partition.append(new Uint8Array(2), 0);
    log.firstUnstableOffset = 2; // a transactional batch at offset 2
    partition.append(new Uint8Array(3), 0);
    expect(partition.highWatermark).toBe(5);
    expect(partition.lastStableOffset).toBe(2);
    partition.appendTxnMarker(9, 0, 0, false, 0);
    expect(log.markers).toEqual([{ producerId: 9, commit: false }]);
    expect(partition.highWatermark).toBe(6);
    expect(partition.lastStableOffset).toBe(6);
    // Parked read_committed fetches are told the LSO moved.
    expect(changes).toEqual([2, 5, 6]);
  });
});

// A partition's leader epochs as fetchers see them: where an epoch ends (Kafka's endOffsetFor),
// the Fetch v12+ last-fetched-epoch check (KIP-320/595 truncation detection: consistent,
// diverging, out of range), and the high watermark a replicated partition restarts with from
// replication-offset-checkpoint. Over a stand-in log and a real epoch checkpoint in a temp dir.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PartitionLog } from '@sluice/native';
import { afterEach, describe, expect, test } from 'vitest';
import { Partition } from './partition.ts';
import { Topic } from './topics.ts';

/** The offsets a Partition reads from its log; nothing is appended here. */
class StandInLog {
  readonly logEndOffset: number;
  readonly logStartOffset: number;

  constructor(logEndOffset: number, logStartOffset = 0) {
    this.logEndOffset = logEndOffset;
    this.logStartOffset = logStartOffset;
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function partitionOver(log: StandInLog, checkpointedHighWatermark?: number): Partition {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-partition-epochs-'));
  dirs.push(dir);
  const topic = new Topic('t', '0123456789abcdef0123456789abcdef', undefined as never);
  const partition = new Partition(topic, 0, dir, dir, log as unknown as PartitionLog, checkpointedHighWatermark);
  topic.partitions.push(partition);
  return partition;
}

/** A replicated partition whose log holds epoch 1 from 0, epoch 3 from 10, up to 20. */
function replicated(logStart = 0): Partition {
  const p = partitionOver(new StandInLog(20, logStart));
  p.setReplicated();
  p.epochs.assign(1, 0);
  p.epochs.assign(3, 10);
  p.setLeaderEpoch(3);
  return p;
}

describe('where an epoch ends (Kafka endOffsetFor)', () => {
  test('replicated: from the epoch cache', () => {
    const p = replicated();
    expect(p.endOffsetForEpoch(3)).toEqual({ epoch: 3, endOffset: 20 }); // the latest: the log end
    expect(p.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 10 });
    expect(p.endOffsetForEpoch(2)).toEqual({ epoch: 1, endOffset: 10 }); // unknown here: the one before it
    expect(p.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 0 }); // older than all: ends where the first starts
    expect(p.endOffsetForEpoch(4)).toEqual({ epoch: -1, endOffset: -1 }); // later than the latest
    expect(p.endOffsetForEpoch(-1)).toEqual({ epoch: -1, endOffset: -1 });
  });

  test('not replicated (single node): epoch 0 is the whole log', () => {
    const p = partitionOver(new StandInLog(7));
    expect(p.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 7 });
    expect(p.endOffsetForEpoch(1)).toEqual({ epoch: -1, endOffset: -1 });
    expect(p.endOffsetForEpoch(-1)).toEqual({ epoch: -1, endOffset: -1 });
  });
});

describe("the last fetched epoch check (Kafka's validateFetchOffsetAndMaybeGetDivergingEpoch)", () => {
  test.each([
    // lastFetchedEpoch, fetchOffset, outcome
    [3, 15, { kind: 'consistent' }],
    [3, 20, { kind: 'consistent' }], // at the log end
    [3, 21, { kind: 'diverging', epoch: 3, endOffset: 20 }], // past the end of the latest epoch
    [1, 10, { kind: 'consistent' }], // exactly where epoch 1 ends
    [1, 12, { kind: 'diverging', epoch: 1, endOffset: 10 }], // the fetcher has more of epoch 1 than the leader
    [2, 8, { kind: 'diverging', epoch: 1, endOffset: 10 }], // an epoch the leader never had
    [0, 0, { kind: 'consistent' }], // older than the cache, nothing past its end
    [0, 3, { kind: 'diverging', epoch: 0, endOffset: 0 }],
    [4, 20, { kind: 'out-of-range' }], // later than anything here
  ] as const)('epoch %i at offset %i', (lastFetchedEpoch, fetchOffset, outcome) => {
    expect(replicated().checkLastFetchedEpoch(lastFetchedEpoch, fetchOffset)).toEqual(outcome);
  });

  test('below the log start it is out of range, diverging or not', () => {
    const p = replicated(5);
    expect(p.checkLastFetchedEpoch(3, 2)).toEqual({ kind: 'out-of-range' });
    expect(p.checkLastFetchedEpoch(1, 2)).toEqual({ kind: 'out-of-range' });
    expect(p.checkLastFetchedEpoch(3, 5)).toEqual({ kind: 'consistent' });
  });

  test('single node: a consumer past the log end is told where epoch 0 ends', () => {
    const p = partitionOver(new StandInLog(7));
    expect(p.checkLastFetchedEpoch(0, 7)).toEqual({ kind: 'consistent' });
    expect(p.checkLastFetchedEpoch(0, 9)).toEqual({ kind: 'diverging', epoch: 0, endOffset: 7 });
    expect(p.checkLastFetchedEpoch(1, 7)).toEqual({ kind: 'out-of-range' });
  });
});

describe('the high watermark a replicated partition restarts with', () => {
  test('the checkpointed one, clamped to the log; else the log start', () => {
    const at = (checkpointed: number | undefined, logEnd = 20, logStart = 5) => {
      const p = partitionOver(new StandInLog(logEnd, logStart), checkpointed);
      expect(p.highWatermark).toBe(logEnd); // a single node's: everything it has
      p.setReplicated();
      return p.highWatermark;
    };
    expect(at(12)).toBe(12);
    expect(at(30)).toBe(20); // the log lost its tail since (unclean stop): never past the log end
    expect(at(2)).toBe(5); // retention moved the log start past it
    expect(at(undefined)).toBe(5); // nothing checkpointed: only the log start is certain
  });
});

describe('follower truncation and the epoch cache', () => {
  test("an epoch starting at the log end goes even when nothing is truncated (Kafka's truncateTo)", () => {
    const log = new StandInLog(20);
    const p = partitionOver(log);
    p.setReplicated();
    p.epochs.assign(1, 0);
    p.epochs.assign(4, 20); // took epoch 4 as leader, deposed before appending in it
    p.truncateTo(25);
    expect(p.epochs.latestEpoch).toBe(1);
    expect(log.logEndOffset).toBe(20);
  });
});

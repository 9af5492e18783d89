// The group coordinator in cluster mode (`partitioned`): it coordinates only the groups of the
// offsets partitions loaded here (the ones this broker leads). Another broker's coordinator over
// the same (replicated) log takes a partition over with everything committed there; the one that
// resigned answers NOT_COORDINATOR and forgets the partition's groups.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { silentLogger } from '../logger.ts';
import { joinInput, TEST_CONFIG, watch } from '../testing/group-harness.ts';
import { MemoryGroupLog } from '../testing/memory-group-log.ts';
import { GroupCoordinator } from './coordinator.ts';
import { groupPartition } from './partitioning.ts';

const commit = (groupId: string, offset: number) => ({
  groupId,
  generationId: -1,
  memberId: '',
  groupInstanceId: null,
  retentionTimeMs: -1,
  apiVersion: 8,
  offsets: [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: null }],
});

function partitioned(log: MemoryGroupLog, clock = new ManualClock()): GroupCoordinator {
  const c = new GroupCoordinator({ config: TEST_CONFIG, groupLog: log, logger: silentLogger, clock, partitioned: true });
  c.load();
  return c;
}

/** A group id whose offsets partition (of 4) is `partition`. */
function groupIn(partition: number, tag: string): string {
  for (let i = 0; ; i++) if (groupPartition(`${tag}-${i}`, 4) === partition) return `${tag}-${i}`;
}

describe('a partitioned group coordinator', () => {
  test('answers NOT_COORDINATOR for groups of partitions it has not loaded, and serves those it has', async () => {
    const c = partitioned(new MemoryGroupLog(4));
    const mine = groupIn(1, 'mine');
    const other = groupIn(2, 'other');
    c.loadPartition(1);
    expect(await c.commitOffsets(commit(mine, 5))).toEqual([ErrorCode.NONE]);
    expect(await c.commitOffsets(commit(other, 5))).toEqual([ErrorCode.NOT_COORDINATOR]);
    expect(c.fetchOffsets(other, null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await c.joinGroup(joinInput(other, ''))).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(c.heartbeat({ groupId: other, memberId: 'm', groupInstanceId: null, generationId: 1 })).toBe(ErrorCode.NOT_COORDINATOR);
    expect(c.describeGroup(other).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(c.coordinates(mine)).toBe(true);
    expect(c.coordinates(other)).toBe(false);
  });

  test('a coordinator taking a partition over replays its committed offsets; the one that resigned forgets them', async () => {
    const log = new MemoryGroupLog(4);
    const first = partitioned(log);
    const group = groupIn(3, 'moving');
    const untouched = groupIn(0, 'staying');
    first.loadPartition(3);
    first.loadPartition(0);
    await first.commitOffsets(commit(group, 42));
    await first.commitOffsets(commit(untouched, 7));

    // Leadership of partition 3 moves to another broker (same replicated log).
    first.unloadPartition(3);
    const second = partitioned(log);
    second.loadPartition(3);
    expect(second.fetchOffsets(group, null).topics[0]?.partitions[0]?.committedOffset).toBe(42);
    // Only partition 3 was loaded there.
    expect(second.fetchOffsets(untouched, null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(second.listGroups().map((g) => g.groupId)).toEqual([group]);

    expect(first.fetchOffsets(group, null).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(first.listGroups().map((g) => g.groupId)).toEqual([untouched]);
    expect(first.fetchOffsets(untouched, null).topics[0]?.partitions[0]?.committedOffset).toBe(7);
  });

  test('unloading answers a parked JoinGroup NOT_COORDINATOR', async () => {
    const clock = new ManualClock();
    const c = partitioned(new MemoryGroupLog(4), clock);
    const group = groupIn(2, 'parked');
    c.loadPartition(2);
    const memberId = (await c.joinGroup(joinInput(group, ''))).memberId;
    // The first member's join waits for the initial rebalance delay.
    const parked = watch(c.joinGroup(joinInput(group, memberId)));
    await new Promise((r) => setImmediate(r));
    expect(parked.done).toBe(false);
    c.unloadPartition(2);
    await new Promise((r) => setImmediate(r));
    expect(parked.done).toBe(true);
    expect(parked.value?.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(c.groupState(group)).toBeUndefined();
  });
});

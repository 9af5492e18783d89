// Coordinator offsets and durability: OffsetCommit checks, OffsetFetch, retention, DeleteGroups,
// ListGroups/DescribeGroups, replay of the log after a restart, storage failures.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import type { OffsetCommitInput, OffsetToCommit } from './types.ts';
import { decodeKey, decodeOffsetValue } from './records.ts';
import { harness, joinInput, memberIdFor, protocol, SESSION_MS, settle, stableGroup, syncInput, TEST_CONFIG, watch } from '../testing/group-harness.ts';

function commit(groupId: string, offsets: OffsetToCommit[], overrides: Partial<OffsetCommitInput> = {}): OffsetCommitInput {
  return { groupId, generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8, offsets, ...overrides };
}

function offset(topic: string, partition: number, value: number, metadata: string | null = null, leaderEpoch = -1): OffsetToCommit {
  return { topic, partition, offset: value, leaderEpoch, metadata };
}

describe('OffsetCommit', () => {
  test('a simple (generation -1) commit creates an Empty group without protocol type; fetch returns it', async () => {
    const h = harness();
    const errors = await h.coordinator.commitOffsets(commit('simple', [offset('t', 0, 42, 'meta', 3), offset('t', 1, 7, null)]));
    expect(errors).toEqual([0, 0]);
    expect(h.coordinator.groupState('simple')).toBe('Empty');
    expect(h.coordinator.listGroups()).toEqual([{ groupId: 'simple', protocolType: '', groupState: 'Empty' }]);
    const fetched = h.coordinator.fetchOffsets('simple', [{ name: 't', partitionIndexes: [0, 1, 2] }]);
    expect(fetched).toEqual({
      errorCode: 0,
      topics: [
        {
          name: 't',
          partitions: [
            { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: 3, metadata: 'meta', errorCode: 0 },
            // A null metadata string is stored as "".
            { partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
            // Never committed: offset -1, no error.
            { partitionIndex: 2, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
    });
  });

  test('a later commit replaces the earlier one', async () => {
    const h = harness();
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1)]));
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 2, 'second')]));
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0].partitions[0]).toMatchObject({
      committedOffset: 2,
      metadata: 'second',
    });
  });

  test('a generation for a group that does not exist: ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9', async () => {
    const h = harness();
    expect(await h.coordinator.commitOffsets(commit('nope', [offset('t', 0, 1)], { generationId: 3, memberId: 'm', apiVersion: 8 }))).toEqual([
      ErrorCode.ILLEGAL_GENERATION,
    ]);
    expect(await h.coordinator.commitOffsets(commit('nope', [offset('t', 0, 1)], { generationId: 3, memberId: 'm', apiVersion: 9 }))).toEqual([
      ErrorCode.GROUP_ID_NOT_FOUND,
    ]);
    expect(h.coordinator.groupState('nope')).toBeUndefined();
  });

  test('member checks: unknown member, illegal generation, fenced instance, simple commit on a live group', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, (i) => ({ groupInstanceId: i === 1 ? 'static-1' : null }));
    const o = [offset('t', 0, 5)];
    const member = { generationId: g.generationId, memberId: g.leader };
    expect(await h.coordinator.commitOffsets(commit('g', o, member))).toEqual([0]);
    expect(await h.coordinator.commitOffsets(commit('g', o, { ...member, memberId: 'stranger' }))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await h.coordinator.commitOffsets(commit('g', o, { ...member, generationId: g.generationId + 1 }))).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await h.coordinator.commitOffsets(commit('g', o, { ...member, groupInstanceId: 'static-1' }))).toEqual([ErrorCode.FENCED_INSTANCE_ID]);
    expect(await h.coordinator.commitOffsets(commit('g', o, { generationId: g.generationId, memberId: g.memberIds[1], groupInstanceId: 'static-1' }))).toEqual([
      0,
    ]);
    // No member id, no generation: only while the group has no members.
    expect(await h.coordinator.commitOffsets(commit('g', o))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
  });

  test('a commit during CompletingRebalance is REBALANCE_IN_PROGRESS; during PreparingRebalance it is accepted', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    watch(h.coordinator.joinGroup(joinInput('g', a)));
    h.clock.advance(TEST_CONFIG.initialRebalanceDelayMs);
    await settle();
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1)], { generationId: 1, memberId: a }))).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    await h.coordinator.syncGroup(syncInput('g', a, 1, { [a]: [1] }));
    const b = await memberIdFor(h, 'g');
    watch(h.coordinator.joinGroup(joinInput('g', b)));
    await settle();
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    // The member of the previous generation commits what it processed before rejoining.
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 9)], { generationId: 1, memberId: a }))).toEqual([0]);
  });

  test('a member commit keeps its session alive', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    for (let i = 0; i < 5; i++) {
      h.clock.advance(SESSION_MS - 1000);
      expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, i)], { generationId: g.generationId, memberId: g.leader }))).toEqual([0]);
    }
    expect(h.coordinator.groupState('g')).toBe('Stable');
  });

  test('metadata longer than offset.metadata.max.bytes fails only that partition', async () => {
    const h = harness({ offsetMetadataMaxBytes: 5 });
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1, '12345'), offset('t', 1, 1, '123456')]))).toEqual([
      0,
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
    ]);
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [1] }]).topics[0].partitions[0].committedOffset).toBe(-1);
  });

  test('the answer waits for durability; the offset is visible once appended', async () => {
    const h = harness();
    h.log.holdFlushes();
    const pending = watch(h.coordinator.commitOffsets(commit('g', [offset('t', 0, 3)])));
    await settle();
    expect(pending.done).toBe(false);
    expect(h.log.recordCount).toBe(1);
    h.log.releaseFlushes();
    await settle();
    expect(pending.value).toEqual([0]);
  });

  test('storage failures: storage error -> NOT_COORDINATOR, too large -> INVALID_COMMIT_OFFSET_SIZE; nothing stored', async () => {
    const h = harness();
    h.log.failNextAppend(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1), offset('t', 1, 1)]))).toEqual([
      ErrorCode.NOT_COORDINATOR,
      ErrorCode.NOT_COORDINATOR,
    ]);
    h.log.failNextAppend(ErrorCode.MESSAGE_TOO_LARGE);
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1)]))).toEqual([ErrorCode.INVALID_COMMIT_OFFSET_SIZE]);
    expect(h.coordinator.fetchOffsets('g', null).topics).toEqual([]);
    h.log.failNextFlush(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1)]))).toEqual([ErrorCode.NOT_COORDINATOR]);
  });

  test('the records written are the documented key/value', async () => {
    const h = harness();
    h.clock.advance(1234);
    await h.coordinator.commitOffsets(commit('g', [offset('topic', 3, 99, 'm', 4)], { retentionTimeMs: 5000, apiVersion: 2 }));
    const partition = h.coordinator.partitionFor('g');
    const [record] = h.log.partitions[partition];
    expect(decodeKey(record.key)).toEqual({ kind: 'offset', group: 'g', topic: 'topic', partition: 3 });
    expect(decodeOffsetValue(record.value!)).toEqual({
      offset: 99,
      leaderEpoch: 4,
      metadata: 'm',
      commitTimestamp: h.clock.now(),
      expireTimestamp: h.clock.now() + 5000,
    });
  });
});

describe('OffsetFetch', () => {
  test('null topics: every committed partition of the group', async () => {
    const h = harness();
    await h.coordinator.commitOffsets(commit('g', [offset('a', 1, 10), offset('b', 0, 20), offset('a', 0, 30)]));
    const all = h.coordinator.fetchOffsets('g', null);
    expect(all.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.committedOffset])])).toEqual([
      [
        'a',
        [
          [1, 10],
          [0, 30],
        ],
      ],
      ['b', [[0, 20]]],
    ]);
  });

  test('an unknown group: -1 for each requested partition, nothing with null topics', () => {
    const h = harness();
    expect(h.coordinator.fetchOffsets('nope', null)).toEqual({ errorCode: 0, topics: [] });
    expect(h.coordinator.fetchOffsets('nope', [{ name: 't', partitionIndexes: [0] }]).topics[0].partitions[0]).toEqual({
      partitionIndex: 0,
      committedOffset: -1,
      committedLeaderEpoch: -1,
      metadata: '',
      errorCode: 0,
    });
  });
});

describe('restart: the log is replayed', () => {
  test('committed offsets survive', async () => {
    const h = harness();
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 11, 'x'), offset('t', 1, 12)]));
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 13, 'y')]));
    await h.coordinator.commitOffsets(commit('other', [offset('u', 5, 1)]));
    const c = h.restart();
    expect(c.fetchOffsets('g', null).topics).toEqual([
      {
        name: 't',
        partitions: [
          { partitionIndex: 0, committedOffset: 13, committedLeaderEpoch: -1, metadata: 'y', errorCode: 0 },
          { partitionIndex: 1, committedOffset: 12, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
        ],
      },
    ]);
    expect(c.fetchOffsets('other', null).topics[0].partitions[0].committedOffset).toBe(1);
    expect(c.groupState('g')).toBe('Empty');
  });

  test('a Stable group comes back Stable at its generation; members that heartbeat carry on', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, () => ({ protocols: [protocol('range', 4, 2)] }));
    const c = h.restart();
    expect(c.groupState('g')).toBe('Stable');
    expect(c.group('g')!.generationId).toBe(g.generationId);
    expect(c.group('g')!.leaderId).toBe(g.leader);
    expect(c.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: g.memberIds[1], groupInstanceId: null })).toBe(0);
    // Assignments and metadata are back, byte-exact.
    expect((await c.syncGroup(syncInput('g', g.memberIds[1], g.generationId))).assignment).toEqual(Uint8Array.from([1]));
    const described = c.describeGroup('g');
    expect(described).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.members.map((m) => [m.memberId, [...m.memberMetadata], [...m.memberAssignment]])).toEqual([
      [g.memberIds[0], [4, 2], [0]],
      [g.memberIds[1], [4, 2], [1]],
    ]);
  });

  test('members that do not come back after a restart expire and the group empties', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2);
    const c = h.restart();
    h.clock.advance(SESSION_MS);
    await settle();
    expect(c.groupState('g')).toBe('Empty');
    expect(c.group('g')!.generationId).toBe(g.generationId + 1);
    // And that empty generation is what the next restart sees.
    const c2 = h.restart();
    expect(c2.groupState('g')).toBe('Empty');
    expect(c2.group('g')!.generationId).toBe(g.generationId + 1);
  });

  test('static members are restored with their instance ids', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1, () => ({ groupInstanceId: 'inst' }));
    const c = h.restart();
    const rejoin = await c.joinGroup(joinInput('g', '', { groupInstanceId: 'inst' }));
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: g.generationId });
    expect(c.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: g.leader, groupInstanceId: 'inst' })).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  test('a corrupt record stops the load', () => {
    const h = harness();
    h.log.partitions[0].push({ key: Uint8Array.from([0, 7]), value: null });
    expect(() => h.restart()).toThrow(/key version 7/);
  });
});

describe('DeleteGroups, ListGroups, DescribeGroups', () => {
  test('deletes an Empty group and its offsets; refuses non-empty and unknown groups', async () => {
    const h = harness();
    await h.coordinator.commitOffsets(commit('empty', [offset('t', 0, 1), offset('t', 1, 2)]));
    await stableGroup(h, 'busy', 1);
    expect(await h.coordinator.deleteGroups(['empty', 'busy', 'nope', 'empty'])).toEqual([
      { groupId: 'empty', errorCode: 0 },
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      { groupId: 'empty', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(h.coordinator.groupState('empty')).toBeUndefined();
    expect(h.coordinator.fetchOffsets('empty', null).topics).toEqual([]);
    // Tombstones: the deletion survives a restart.
    const tombstones = h.log.partitions[h.coordinator.partitionFor('empty')].filter((r) => r.value === null);
    expect(tombstones.map((r) => decodeKey(r.key))).toEqual([
      { kind: 'offset', group: 'empty', topic: 't', partition: 0 },
      { kind: 'offset', group: 'empty', topic: 't', partition: 1 },
      { kind: 'group', group: 'empty' },
    ]);
    const c = h.restart();
    expect(c.groupState('empty')).toBeUndefined();
    expect(c.fetchOffsets('empty', null).topics).toEqual([]);
  });

  test('a failed deletion write keeps the group', async () => {
    const h = harness();
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1)]));
    h.log.failNextAppend(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await h.coordinator.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NOT_COORDINATOR }]);
    expect(h.coordinator.groupState('g')).toBe('Empty');
  });

  test('ListGroups filters by state, case-insensitively', async () => {
    const h = harness();
    await stableGroup(h, 'stable', 1);
    await h.coordinator.commitOffsets(commit('simple', [offset('t', 0, 1)]));
    const a = await memberIdFor(h, 'preparing');
    watch(h.coordinator.joinGroup(joinInput('preparing', a)));
    await settle();
    expect(h.coordinator.listGroups().map((g) => [g.groupId, g.groupState, g.protocolType])).toEqual([
      ['stable', 'Stable', 'consumer'],
      ['simple', 'Empty', ''],
      ['preparing', 'PreparingRebalance', 'consumer'],
    ]);
    expect(h.coordinator.listGroups(['stable', 'EMPTY']).map((g) => g.groupId)).toEqual(['stable', 'simple']);
    expect(h.coordinator.listGroups(['Dead'])).toEqual([]);
  });

  test('DescribeGroups: metadata and assignments only when Stable; an unknown group is Dead', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g', { clientId: 'my-client' });
    watch(h.coordinator.joinGroup(joinInput('g', a, { clientId: 'my-client', clientHost: '/10.0.0.1' })));
    h.clock.advance(TEST_CONFIG.initialRebalanceDelayMs);
    await settle();
    expect(h.coordinator.describeGroup('g')).toEqual({
      errorCode: 0,
      groupId: 'g',
      groupState: 'CompletingRebalance',
      protocolType: 'consumer',
      protocolData: '',
      members: [
        {
          memberId: a,
          groupInstanceId: null,
          clientId: 'my-client',
          clientHost: '/10.0.0.1',
          memberMetadata: new Uint8Array(0),
          memberAssignment: new Uint8Array(0),
        },
      ],
    });
    await h.coordinator.syncGroup(syncInput('g', a, 1, { [a]: [5, 6] }));
    expect(h.coordinator.describeGroup('g').members[0]).toMatchObject({ memberMetadata: Uint8Array.from([1]), memberAssignment: Uint8Array.from([5, 6]) });
    expect(h.coordinator.describeGroup('g').protocolData).toBe('range');
    expect(h.coordinator.describeGroup('nope')).toEqual({ errorCode: 0, groupId: 'nope', groupState: 'Dead', protocolType: '', protocolData: '', members: [] });
  });
});

describe('offsets retention (offsets.retention.minutes)', () => {
  const RETENTION = TEST_CONFIG.offsetsRetentionMs;

  test('an Empty group keeps its offsets for the retention period after it emptied, then the group is deleted', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 5)], { generationId: g.generationId, memberId: g.leader }));
    // A group with members never loses offsets, however old.
    for (let t = 0; t < RETENTION * 2; t += 3000) {
      h.clock.advance(3000);
      h.coordinator.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: g.leader, groupInstanceId: null });
    }
    expect(h.coordinator.fetchOffsets('g', null).topics).toHaveLength(1);
    h.coordinator.leaveGroup('g', [{ memberId: g.leader, groupInstanceId: null, reason: null }]);
    expect(h.coordinator.groupState('g')).toBe('Empty');
    // The periodic check (every offsets.retention.check.interval.ms) removes them at most one
    // interval after they expired.
    h.clock.advance(RETENTION - 1);
    expect(h.coordinator.fetchOffsets('g', null).topics).toHaveLength(1);
    h.clock.advance(TEST_CONFIG.offsetsRetentionCheckIntervalMs + 1);
    expect(h.coordinator.fetchOffsets('g', null).topics).toEqual([]);
    expect(h.coordinator.groupState('g')).toBeUndefined();
    expect(h.restart().groupState('g')).toBeUndefined();
  });

  test('a simple group: each offset expires retention after its commit', async () => {
    const h = harness();
    h.clock.advance(10);
    await h.coordinator.commitOffsets(commit('s', [offset('t', 0, 1)]));
    h.clock.advance(RETENTION / 2);
    await h.coordinator.commitOffsets(commit('s', [offset('t', 1, 1)]));
    h.clock.advance(RETENTION / 2 - 1);
    expect(h.coordinator.expireOffsets()).toBe(0);
    h.clock.advance(1);
    expect(h.coordinator.expireOffsets()).toBe(1);
    expect(h.coordinator.fetchOffsets('s', null).topics[0].partitions.map((p) => p.partitionIndex)).toEqual([1]);
    // The periodic check takes the other one: then no offsets are left and the group goes.
    h.clock.advance(RETENTION / 2 + TEST_CONFIG.offsetsRetentionCheckIntervalMs);
    expect(h.coordinator.fetchOffsets('s', null).topics).toEqual([]);
    expect(h.coordinator.groupState('s')).toBeUndefined();
  });

  test('OffsetCommit v2-4 retentionTimeMs sets a per-offset expiry', async () => {
    const h = harness();
    await h.coordinator.commitOffsets(commit('s', [offset('t', 0, 1)], { retentionTimeMs: 1000, apiVersion: 2 }));
    await h.coordinator.commitOffsets(commit('s', [offset('t', 1, 1)]));
    h.clock.advance(999);
    expect(h.coordinator.expireOffsets()).toBe(0);
    h.clock.advance(1);
    expect(h.coordinator.expireOffsets()).toBe(1);
    expect(h.coordinator.fetchOffsets('s', null).topics[0].partitions.map((p) => p.partitionIndex)).toEqual([1]);
  });

  test('the empty-since time survives a restart', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 5)], { generationId: g.generationId, memberId: g.leader }));
    h.coordinator.leaveGroup('g', [{ memberId: g.leader, groupInstanceId: null, reason: null }]);
    h.clock.advance(RETENTION - 1);
    const c = h.restart();
    expect(c.expireOffsets()).toBe(0);
    h.clock.advance(1);
    expect(c.expireOffsets()).toBe(1);
  });
});

describe('close', () => {
  test('parked requests are answered NOT_COORDINATOR; later requests COORDINATOR_NOT_AVAILABLE', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    const join = watch(h.coordinator.joinGroup(joinInput('g', a)));
    h.coordinator.close();
    await settle();
    expect(join.value!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await h.coordinator.joinGroup(joinInput('g', ''))).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(await h.coordinator.commitOffsets(commit('g', [offset('t', 0, 1)]))).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    expect(h.clock.timerCount).toBe(0);
  });
});

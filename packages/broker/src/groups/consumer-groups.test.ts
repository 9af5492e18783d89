// KIP-848 consumer groups on a manual clock: joins, epochs, assignors, incremental
// reconciliation, fencing, static membership, regexes, offsets, persistence, coexistence with
// classic groups.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { consumerHarness, heartbeatInput, settleGroup, TestMember } from '../testing/consumer-group-harness.ts';
import { joinInput } from '../testing/group-harness.ts';
import type { OffsetCommitInput } from './types.ts';

function commit(groupId: string, memberId: string, epoch: number, offset: number, apiVersion = 9): OffsetCommitInput {
  return {
    groupId,
    generationId: epoch,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion,
    offsets: [{ topic: 't', partition: 0, offset, leaderEpoch: -1, metadata: null }],
  };
}

/** No partition is held (assigned or pending revocation) by two members. */
function expectExclusive(h: ReturnType<typeof consumerHarness>, groupId: string): void {
  const group = h.coordinator.consumerGroup(groupId)!;
  const seen = new Set<string>();
  for (const m of group.members.values()) {
    for (const a of [m.assignedPartitions, m.partitionsPendingRevocation]) {
      for (const [topic, partitions] of a) {
        for (const p of partitions) {
          const key = `${topic}:${p}`;
          expect(seen.has(key), `${key} held twice`).toBe(false);
          seen.add(key);
        }
      }
    }
  }
}

describe('joining and the uniform assignor', () => {
  test('a first member gets epoch 1, every partition and the heartbeat interval', async () => {
    const h = consumerHarness();
    h.topics.create('t', 4);
    const a = new TestMember(h, 'g', 'a');
    const r = await a.join();
    expect(r).toMatchObject({ errorCode: ErrorCode.NONE, memberId: 'a', memberEpoch: 1, heartbeatIntervalMs: 5000 });
    expect(a.named()).toEqual({ t: [0, 1, 2, 3] });
    expect(h.coordinator.consumerGroup('g')!.state).toBe('Stable');
    expect(h.coordinator.listGroups([], ['consumer'])).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }]);
  });

  test('v0: a member joining without an id gets one from the coordinator; v1 requires it', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    const r0 = await h.coordinator.consumerGroupHeartbeat(heartbeatInput('g', { apiVersion: 0, subscribedTopicNames: ['t'] }));
    expect(r0.errorCode).toBe(ErrorCode.NONE);
    expect(r0.memberId).toMatch(/^[0-9a-f-]{36}$/);
    const r1 = await h.coordinator.consumerGroupHeartbeat(heartbeatInput('g', { apiVersion: 1, subscribedTopicNames: ['t'] }));
    expect(r1).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "MemberId can't be empty." });
  });

  test('a second member: partitions move only after their owner revoked them, never held twice', async () => {
    const h = consumerHarness();
    h.topics.create('t', 4);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    await a.join();
    const rb = await b.join();
    // b is at the new epoch but its partitions are still a's: it gets none yet.
    expect(rb.memberEpoch).toBe(2);
    expect(b.named()).toEqual({});
    expect(h.coordinator.consumerGroup('g')!.state).toBe('Reconciling');
    expectExclusive(h, 'g');
    // a is asked to give up two partitions and stays at epoch 1 until it says it did.
    const ra = await a.heartbeat();
    expect(ra.memberEpoch).toBe(1);
    expect(a.named()).toEqual({ t: [0, 1] });
    expect(h.coordinator.consumerGroup('g')!.members.get('a')!.state).toBe('unrevoked_partitions');
    expectExclusive(h, 'g');
    // Its next heartbeat reports only [0, 1]: it moves to epoch 2; b then gets [2, 3].
    expect((await a.heartbeat()).memberEpoch).toBe(2);
    await b.heartbeat();
    expect(b.named()).toEqual({ t: [2, 3] });
    expect(h.coordinator.consumerGroup('g')!.state).toBe('Stable');
    expectExclusive(h, 'g');
  });

  test('three members over two topics: balanced within one partition', async () => {
    const h = consumerHarness();
    h.topics.create('t', 5);
    h.topics.create('u', 3);
    const members = ['a', 'b', 'c'].map((id) => new TestMember(h, 'g', id));
    for (const m of members) await m.join({ subscribedTopicNames: ['t', 'u'] });
    await settleGroup(members);
    const counts = members.map((m) => Object.values(m.named()).reduce((n, p) => n + p.length, 0));
    expect(counts.reduce((x, y) => x + y)).toBe(8);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(h.coordinator.consumerGroup('g')!.state).toBe('Stable');
  });

  test("range assignor by the members' choice; an unknown assignor is UNSUPPORTED_ASSIGNOR", async () => {
    const h = consumerHarness();
    h.topics.create('t', 4);
    h.topics.create('u', 4);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    await a.join({ subscribedTopicNames: ['t', 'u'], serverAssignor: 'range' });
    await b.join({ subscribedTopicNames: ['t', 'u'], serverAssignor: 'range' });
    await settleGroup([a, b]);
    // Range: co-partitioned ranges per topic, in member-id order.
    expect(a.named()).toEqual({ t: [0, 1], u: [0, 1] });
    expect(b.named()).toEqual({ t: [2, 3], u: [2, 3] });
    const bad = await new TestMember(h, 'g', 'c').join({ subscribedTopicNames: ['t'], serverAssignor: 'sticky' });
    expect(bad.errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    expect(h.coordinator.consumerGroup('g')!.members.size).toBe(2);
  });

  test('group.consumer.max.size: GROUP_MAX_SIZE_REACHED for one member too many', async () => {
    const h = consumerHarness({ consumerMaxSize: 1 });
    h.topics.create('t', 1);
    await new TestMember(h, 'g', 'a').join();
    const r = await new TestMember(h, 'g', 'b').join();
    expect(r.errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });
});

describe('bad input leaves the group unchanged', () => {
  test('future and stale epochs are FENCED_MEMBER_EPOCH, an unknown member UNKNOWN_MEMBER_ID', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    const c = new TestMember(h, 'g', 'c');
    await a.join();
    await b.join();
    await c.join();
    await settleGroup([a, b, c]);
    expect(a.epoch).toBe(3);
    const group = h.coordinator.consumerGroup('g')!;
    const before = JSON.stringify([group.groupEpoch, [...group.members.values()].map((m) => [m.memberId, m.memberEpoch])]);
    const records = h.log.recordCount;
    expect((await a.heartbeat({ memberEpoch: a.epoch + 1 })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // An older epoch that is not the member's previous one (that one is accepted: a lost answer).
    const previous = group.members.get('a')!.previousMemberEpoch;
    const stale = [1, 2].find((e) => e !== previous)!;
    expect((await a.heartbeat({ memberEpoch: stale })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect((await h.coordinator.consumerGroupHeartbeat(heartbeatInput('g', { memberId: 'nobody', memberEpoch: 3, topicPartitions: null }))).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
    expect((await h.coordinator.consumerGroupHeartbeat(heartbeatInput('other', { memberId: 'x', memberEpoch: 3 }))).errorCode).toBe(
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
    expect(JSON.stringify([group.groupEpoch, [...group.members.values()].map((m) => [m.memberId, m.memberEpoch])])).toBe(before);
    expect(h.log.recordCount).toBe(records);
  });

  test('the previous epoch with a subset of the assignment is accepted (a lost response)', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    await a.join();
    await b.join();
    await settleGroup([a, b]);
    const previous = h.coordinator.consumerGroup('g')!.members.get('a')!.previousMemberEpoch;
    expect((await a.heartbeat({ memberEpoch: previous })).errorCode).toBe(ErrorCode.NONE);
  });

  test('a known member rejoining with epoch 0 is fenced, unless 0 is its previous epoch (a lost join answer)', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    await a.join();
    // a's join answer "was lost": it joins again and is accepted, at the same epoch.
    expect(await a.join()).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: 1 });
    await b.join();
    await settleGroup([a, b]);
    expect(h.coordinator.consumerGroup('g')!.members.get('a')!.previousMemberEpoch).not.toBe(0);
    expect((await a.join()).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // The previous epoch without the owned partitions (a partial heartbeat) is fenced too.
    const previous = h.coordinator.consumerGroup('g')!.members.get('a')!.previousMemberEpoch;
    expect((await a.send({ memberEpoch: previous, topicPartitions: null })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
  });

  test.each([
    ['an empty group id', { groupId: '' }, "GroupId can't be empty."],
    ['no rebalance timeout on join', { rebalanceTimeoutMs: -1 }, 'RebalanceTimeoutMs must be provided in first request.'],
    ['owned partitions on join', { topicPartitions: [{ topicId: '0'.repeat(31) + '1', partitions: [0] }] }, 'TopicPartitions must be empty when (re-)joining.'],
    ['no subscription on join', { subscribedTopicNames: null }, 'SubscribedTopicNames or SubscribedTopicRegex must be set in first request.'],
    ['an epoch below -2', { memberEpoch: -3 }, 'MemberEpoch is invalid: -3'],
  ])('%s is INVALID_REQUEST', async (_what, overrides, message) => {
    const h = consumerHarness();
    const r = await h.coordinator.consumerGroupHeartbeat(heartbeatInput('g', { memberId: 'a', subscribedTopicNames: ['t'], ...overrides }));
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message });
  });

  test('a regex RE2 lacks, or that does not compile, is INVALID_REGULAR_EXPRESSION', async () => {
    const h = consumerHarness();
    for (const regex of ['(?=t).*', 'a(b)\\1', '(?<!x)y', '[unclosed', 'a{2']) {
      const r = await h.coordinator.consumerGroupHeartbeat(heartbeatInput('g', { memberId: 'a', subscribedTopicRegex: regex }));
      expect(r.errorCode, regex).toBe(regex === 'a{2' ? ErrorCode.NONE : ErrorCode.INVALID_REGULAR_EXPRESSION);
    }
  });
});

describe('timeouts', () => {
  test('a member without heartbeats is fenced after the session timeout; the others take over', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    await a.join();
    await b.join();
    await settleGroup([a, b]);
    const epoch = h.coordinator.consumerGroup('g')!.groupEpoch;
    for (let t = 0; t < 50_000; t += 5000) {
      h.clock.advance(5000);
      await b.heartbeat();
    }
    const group = h.coordinator.consumerGroup('g')!;
    expect([...group.members.keys()]).toEqual(['b']);
    expect(group.groupEpoch).toBe(epoch + 1);
    expect(b.named()).toEqual({ t: [0, 1] });
    expect((await a.heartbeat()).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a member that never acknowledges a revocation is fenced after its rebalance timeout', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a');
    const b = new TestMember(h, 'g', 'b');
    await a.join({ subscribedTopicNames: ['t'], rebalanceTimeoutMs: 20_000 });
    await b.join();
    // a is told to revoke but keeps reporting both partitions.
    const stubborn = a.ownedList();
    await a.heartbeat({ topicPartitions: stubborn });
    expect(h.coordinator.consumerGroup('g')!.members.get('a')!.state).toBe('unrevoked_partitions');
    for (let t = 0; t < 25_000; t += 5000) {
      h.clock.advance(5000);
      if (h.coordinator.consumerGroup('g')!.members.has('a')) await a.send({ memberEpoch: a.epoch, topicPartitions: stubborn });
      await b.heartbeat();
    }
    expect([...h.coordinator.consumerGroup('g')!.members.keys()]).toEqual(['b']);
    await b.heartbeat();
    expect(b.named()).toEqual({ t: [0, 1] });
  });
});

describe('leaving and static members', () => {
  test('epoch -1 leaves: the member is removed and the group epoch bumped', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a');
    await a.join();
    const r = await a.send({ memberEpoch: -1 });
    expect(r).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: -1 });
    const group = h.coordinator.consumerGroup('g')!;
    expect(group.state).toBe('Empty');
    expect(group.groupEpoch).toBe(2);
  });

  test('a static member leaving with -2 keeps its partitions; its new instance takes them without a rebalance', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'g', 'a1', 'instance-a');
    const b = new TestMember(h, 'g', 'b');
    await a.join();
    await b.join();
    await settleGroup([a, b]);
    const epoch = h.coordinator.consumerGroup('g')!.groupEpoch;
    const aPartitions = a.named();
    expect((await a.send({ memberEpoch: -2 })).memberEpoch).toBe(-2);
    // Another instance with the same id while the first has not left: UNRELEASED_INSTANCE_ID.
    const b2 = new TestMember(h, 'g', 'b2', 'instance-b');
    await b2.join();
    expect((await new TestMember(h, 'g', 'b3', 'instance-b').join()).errorCode).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
    await b2.send({ memberEpoch: -1 });
    const epochAfterB2 = h.coordinator.consumerGroup('g')!.groupEpoch;
    expect(epochAfterB2).toBe(epoch + 2);
    // The restarted instance a2 replaces a1 and gets a1's partitions at once.
    const a2 = new TestMember(h, 'g', 'a2', 'instance-a');
    const r = await a2.join();
    expect(r.errorCode).toBe(ErrorCode.NONE);
    await settleGroup([a2, b]);
    expect(a2.named()).toEqual(aPartitions);
    expect(h.coordinator.consumerGroup('g')!.members.has('a1')).toBe(false);
    // The old instance is fenced.
    expect((await a.send({ memberEpoch: a.epoch, topicPartitions: null })).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });
});

describe('topics: regexes, new partitions, deletion', () => {
  test('a regex subscription follows topics created later', async () => {
    const h = consumerHarness();
    h.topics.create('orders-eu', 1);
    h.topics.create('payments', 1);
    const a = new TestMember(h, 'g', 'a');
    await a.join({ subscribedTopicRegex: 'orders-.*' });
    expect(a.named()).toEqual({ 'orders-eu': [0] });
    h.topics.create('orders-us', 2);
    await a.heartbeat();
    expect(a.named()).toEqual({ 'orders-eu': [0], 'orders-us': [0, 1] });
    expect(h.coordinator.consumerGroupDescribe('g').members[0]!.subscribedTopicRegex).toBe('orders-.*');
  });

  test('more partitions bump the epoch; a deleted topic is revoked from its owner', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    h.topics.create('u', 1);
    const a = new TestMember(h, 'g', 'a');
    await a.join({ subscribedTopicNames: ['t', 'u'] });
    h.topics.grow('t', 3);
    await a.heartbeat();
    expect(a.named()).toEqual({ t: [0, 1, 2], u: [0] });
    const uId = h.topics.id('u');
    h.topics.delete('u');
    await a.heartbeat();
    expect(a.owned.has(uId)).toBe(false);
    expect(h.coordinator.consumerGroup('g')!.targetAssignment.get('a')!.has(uId)).toBe(false);
  });
});

describe('offsets of consumer groups', () => {
  test('OffsetCommit checks member and epoch as Kafka; offsets are shared with the fetch', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    const a = new TestMember(h, 'g', 'a');
    await a.join();
    const c = h.coordinator;
    expect(await c.commitOffsets(commit('g', 'a', a.epoch, 10))).toEqual([ErrorCode.NONE]);
    expect(await c.commitOffsets(commit('g', 'a', a.epoch - 1, 11))).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await c.commitOffsets(commit('g', 'a', a.epoch + 1, 11))).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await c.commitOffsets(commit('g', 'zz', a.epoch, 11))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await c.commitOffsets(commit('g', '', -1, 11))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await c.commitOffsets(commit('g', 'a', a.epoch, 11, 8))).toEqual([ErrorCode.UNSUPPORTED_VERSION]);
    expect(c.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(10);
    expect(c.validateOffsetFetch('g', 'a', a.epoch)).toBe(ErrorCode.NONE);
    expect(c.validateOffsetFetch('g', 'a', a.epoch - 1)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(c.validateOffsetFetch('g', 'a', a.epoch + 1)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(c.validateOffsetFetch('g', 'zz', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.validateOffsetFetch('g', null, -1)).toBe(ErrorCode.NONE);
    // Once empty, an admin commit (epoch -1) is allowed.
    await a.send({ memberEpoch: -1 });
    expect(await c.commitOffsets(commit('g', '', -1, 12))).toEqual([ErrorCode.NONE]);
  });
});

describe('persistence', () => {
  test('a restart replays epochs, members, assignments and targets; members carry on', async () => {
    const h = consumerHarness();
    h.topics.create('t', 3);
    const a = new TestMember(h, 'g', 'a', 'ia');
    const b = new TestMember(h, 'g', 'b');
    await a.join({ subscribedTopicNames: ['t'], serverAssignor: 'range' });
    await b.join();
    await settleGroup([a, b]);
    await h.coordinator.commitOffsets(commit('g', 'a', a.epoch, 42));
    const snapshot = (c: typeof h.coordinator) => {
      const g = c.consumerGroup('g')!;
      return {
        groupEpoch: g.groupEpoch,
        assignmentEpoch: g.assignmentEpoch,
        members: [...g.members.values()].map((m) => ({
          ...m,
          assignedPartitions: [...m.assignedPartitions].map(([t, p]) => [t, [...p]]),
          partitionsPendingRevocation: [...m.partitionsPendingRevocation],
        })),
        target: [...g.targetAssignment].map(([id, a]) => [id, [...a].map(([t, p]) => [t, [...p]])]),
        metadata: [...g.subscriptionMetadata.values()],
      };
    };
    const before = snapshot(h.coordinator);
    h.restart();
    expect(snapshot(h.coordinator)).toEqual(before);
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(42);
    expect((await a.heartbeat()).errorCode).toBe(ErrorCode.NONE);
    expect((await b.heartbeat()).errorCode).toBe(ErrorCode.NONE);
    expect(h.coordinator.consumerGroup('g')!.state).toBe('Stable');
  });

  test('compaction (the latest record per key, tombstones dropped) replays to the same groups', async () => {
    const h = consumerHarness();
    h.topics.create('t', 4);
    h.topics.create('u', 2);
    const a = new TestMember(h, 'g', 'a', 'ia');
    const b = new TestMember(h, 'g', 'b');
    const c = new TestMember(h, 'g', 'c');
    await a.join({ subscribedTopicNames: ['t', 'u'] });
    await b.join({ subscribedTopicRegex: '[tu]' });
    await c.join();
    await settleGroup([a, b, c]);
    await c.send({ memberEpoch: -1 });
    await a.send({ memberEpoch: -2 });
    const a2 = new TestMember(h, 'g', 'a2', 'ia');
    await a2.join({ subscribedTopicNames: ['t', 'u'] });
    await settleGroup([a2, b]);
    const other = new TestMember(h, 'other', 'x');
    await other.join();
    await other.send({ memberEpoch: -1 });
    expect(await h.coordinator.deleteGroups(['other'])).toEqual([{ groupId: 'other', errorCode: ErrorCode.NONE }]);
    const describe = () => JSON.stringify([h.coordinator.consumerGroupDescribe('g'), h.coordinator.listGroups()]);
    h.restart();
    const replayed = describe();
    // What the log cleaner keeps: per partition, the last record of each key, without tombstones.
    for (const partition of h.log.partitions) {
      const last = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();
      for (const r of partition) {
        const k = Buffer.from(r.key).toString('hex');
        last.delete(k);
        last.set(k, r);
      }
      partition.splice(0, partition.length, ...[...last.values()].filter((r) => r.value !== null));
    }
    h.restart();
    expect(describe()).toBe(replayed);
    expect(h.coordinator.consumerGroup('other')).toBeUndefined();
  });

  test('DeleteGroups writes tombstones for every record: the group stays deleted after a restart', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    const a = new TestMember(h, 'g', 'a');
    await a.join({ subscribedTopicRegex: 't' });
    expect(await h.coordinator.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await a.send({ memberEpoch: -1 });
    expect(await h.coordinator.deleteGroups(['g'])).toEqual([{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    h.restart();
    expect(h.coordinator.consumerGroup('g')).toBeUndefined();
    expect(h.coordinator.listGroups()).toEqual([]);
  });
});

describe('classic and consumer groups side by side', () => {
  test('an empty classic group converts on the first heartbeat, keeping its offsets', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    // A simple commit creates an empty classic group.
    expect(await h.coordinator.commitOffsets(commit('g', '', -1, 7))).toEqual([ErrorCode.NONE]);
    expect(h.coordinator.listGroups()).toEqual([{ groupId: 'g', protocolType: '', groupState: 'Empty' }]);
    const a = new TestMember(h, 'g', 'a');
    expect((await a.join()).errorCode).toBe(ErrorCode.NONE);
    expect(h.coordinator.listGroups()).toEqual([{ groupId: 'g', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }]);
    expect(h.coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset).toBe(7);
    h.restart();
    expect(h.coordinator.group('g')).toBeUndefined();
    expect(h.coordinator.consumerGroup('g')?.members.size).toBe(1);
  });

  test('a classic group with members: GROUP_ID_NOT_FOUND; a consumer group with members refuses classic joins', async () => {
    const h = consumerHarness();
    h.topics.create('t', 1);
    const join = h.coordinator.joinGroup(joinInput('classic', '', { requireKnownMemberId: false }));
    h.clock.advance(3000);
    expect((await join).errorCode).toBe(ErrorCode.NONE);
    const r = await new TestMember(h, 'classic', 'a').join();
    expect(r).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group classic is not a consumer group.' });
    const a = new TestMember(h, 'g', 'a');
    await a.join();
    expect((await h.coordinator.joinGroup(joinInput('g', '', { requireKnownMemberId: false }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: 'a', groupInstanceId: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.coordinator.consumerGroupDescribe('classic')).toMatchObject({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: 'Group classic is not a consumer group.',
    });
    expect(h.coordinator.listGroups([], ['classic']).map((g) => g.groupId)).toEqual(['classic']);
    // Once the consumer group is empty, a classic JoinGroup takes the id over.
    await a.send({ memberEpoch: -1 });
    const classicJoin = h.coordinator.joinGroup(joinInput('g', '', { requireKnownMemberId: false }));
    await new Promise((resolve) => setImmediate(resolve));
    h.clock.advance(3000);
    expect((await classicJoin).errorCode).toBe(ErrorCode.NONE);
    expect(h.coordinator.consumerGroup('g')).toBeUndefined();
  });
});

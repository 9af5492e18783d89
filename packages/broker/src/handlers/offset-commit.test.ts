// OffsetCommit and OffsetFetch through the codec at each served version.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { fakeBroker, harness } from '../testing/group-harness.ts';
import { offsetCommitHandler } from './offset-commit.ts';
import { offsetFetchHandler } from './offset-fetch.ts';

const TOPICS = { orders: 3, audit: 1 };

function commitBody(groupId: string, partitions: Array<[string, number, number, string | null]>, extra: object = {}) {
  const byTopic = new Map<string, Array<{ partitionIndex: number; committedOffset: number; committedLeaderEpoch: number; committedMetadata: string | null }>>();
  for (const [topic, partitionIndex, committedOffset, committedMetadata] of partitions) {
    if (!byTopic.has(topic)) byTopic.set(topic, []);
    byTopic.get(topic)!.push({ partitionIndex, committedOffset, committedLeaderEpoch: 5, committedMetadata });
  }
  return {
    groupId,
    generationIdOrMemberEpoch: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    topics: [...byTopic].map(([name, ps]) => ({ name, partitions: ps })),
    ...extra,
  };
}

describe('OffsetCommit', () => {
  test.each([2, 3, 4, 5, 6, 7, 8, 9])('v%i: a simple commit, unknown topics and partitions answered per partition', async (version) => {
    const h = harness();
    const broker = fakeBroker(() => h.coordinator, TOPICS);
    const response = await callHandler(
      offsetCommitHandler,
      broker,
      version,
      commitBody('g', [
        ['orders', 0, 10, 'a'],
        ['orders', 7, 1, null],
        ['nope', 0, 1, null],
        ['audit', 0, 3, null],
      ]),
    );
    expect(response.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, errorCode: 0 },
          { partitionIndex: 7, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
        ],
      },
      { name: 'nope', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      { name: 'audit', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
    ]);
    const stored = h.coordinator.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0] }]).topics[0].partitions[0];
    // The leader epoch exists from v6; before that it is -1.
    expect(stored).toMatchObject({ committedOffset: 10, metadata: 'a', committedLeaderEpoch: version >= 6 ? 5 : -1 });
  });

  test('only unknown topics: nothing reaches the coordinator', async () => {
    const h = harness();
    const response = await callHandler(
      offsetCommitHandler,
      fakeBroker(() => h.coordinator, TOPICS),
      8,
      commitBody('g', [['nope', 0, 1, null]]),
    );
    expect(response.topics[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(h.coordinator.groupState('g')).toBeUndefined();
  });

  test('v2-4 retentionTimeMs is honoured; v5+ has none', async () => {
    const h = harness();
    const broker = fakeBroker(() => h.coordinator, TOPICS);
    await callHandler(offsetCommitHandler, broker, 4, commitBody('g', [['orders', 0, 1, null]], { retentionTimeMs: 1000 }));
    await callHandler(offsetCommitHandler, broker, 5, commitBody('g', [['orders', 1, 1, null]]));
    h.clock.advance(1000);
    expect(h.coordinator.expireOffsets()).toBe(1);
  });

  test('member checks reach the client: v8 ILLEGAL_GENERATION, v9 GROUP_ID_NOT_FOUND for a missing group', async () => {
    const h = harness();
    const broker = fakeBroker(() => h.coordinator, TOPICS);
    const body = commitBody('missing', [['orders', 0, 1, null]], { generationIdOrMemberEpoch: 4, memberId: 'm' });
    expect((await callHandler(offsetCommitHandler, broker, 8, body)).topics[0].partitions[0].errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await callHandler(offsetCommitHandler, broker, 9, body)).topics[0].partitions[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

describe('OffsetFetch', () => {
  async function committed() {
    const h = harness();
    const broker = fakeBroker(() => h.coordinator, TOPICS);
    await callHandler(
      offsetCommitHandler,
      broker,
      8,
      commitBody('g', [
        ['orders', 0, 10, 'meta'],
        ['orders', 2, 12, null],
        ['audit', 0, 3, null],
      ]),
    );
    return { h, broker };
  }

  test.each([1, 2, 3, 4, 5, 6, 7])('v%i: requested partitions; never-committed ones answer -1', async (version) => {
    const { broker } = await committed();
    const response = await callHandler(offsetFetchHandler, broker, version, { groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 1] }] });
    expect(response.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: version >= 5 ? 5 : -1, metadata: 'meta', errorCode: 0 },
          { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
        ],
      },
    ]);
    if (version >= 2) expect(response.errorCode).toBe(0);
  });

  test.each([2, 7])('v%i: null topics means every committed partition', async (version) => {
    const { broker } = await committed();
    const response = await callHandler(offsetFetchHandler, broker, version, { groupId: 'g', topics: null });
    expect(response.topics.map((t: any) => [t.name, t.partitions.map((p: any) => [p.partitionIndex, p.committedOffset])])).toEqual([
      [
        'orders',
        [
          [0, 10],
          [2, 12],
        ],
      ],
      ['audit', [[0, 3]]],
    ]);
  });

  test.each([8, 9])('v%i: several groups in one request', async (version) => {
    const { broker } = await committed();
    const response = await callHandler(offsetFetchHandler, broker, version, {
      groups: [
        { groupId: 'g', memberId: null, memberEpoch: -1, topics: [{ name: 'audit', partitionIndexes: [0] }] },
        { groupId: 'g', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'other', memberId: null, memberEpoch: -1, topics: null },
      ],
      requireStable: true,
    });
    expect(response.groups.map((g: any) => [g.groupId, g.errorCode, g.topics.map((t: any) => t.name)])).toEqual([
      ['g', 0, ['audit']],
      ['g', 0, ['orders', 'audit']],
      ['other', 0, []],
    ]);
    expect(response.groups[0].topics[0].partitions[0]).toEqual({ partitionIndex: 0, committedOffset: 3, committedLeaderEpoch: 5, metadata: '', errorCode: 0 });
  });
});

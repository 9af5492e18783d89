// OffsetDelete through the codec: Kafka's rules for which offsets a group may lose.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { fakeBroker, type Harness, harness, protocol, stableGroup } from '../testing/group-harness.ts';
import { offsetDeleteHandler } from './offset-delete.ts';

const TOPICS = { orders: 3, audit: 1 };

/** A consumer protocol Subscription (v0): the version, then the topic names. */
function subscription(...topics: string[]): number[] {
  const out = [0, 0, 0, 0, 0, topics.length];
  for (const t of topics) out.push(0, t.length, ...Buffer.from(t));
  return [...out, 0xff, 0xff, 0xff, 0xff]; // userData: null
}

async function commit(h: Harness, groupId: string, offsets: Array<[string, number, number]>, member = { memberId: '', generationId: -1 }) {
  const codes = await h.coordinator.commitOffsets({
    apiVersion: 9,
    groupId,
    memberId: member.memberId,
    generationId: member.generationId,
    groupInstanceId: null,
    retentionTimeMs: -1,
    offsets: offsets.map(([topic, partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1, metadata: null })),
  });
  expect(codes.every((c) => c === ErrorCode.NONE)).toBe(true);
}

function committed(h: Harness, groupId: string): string[] {
  return h.coordinator
    .fetchOffsets(groupId, null)
    .topics.flatMap((t) => t.partitions.filter((p) => p.committedOffset >= 0).map((p) => `${t.name}-${p.partitionIndex}`))
    .sort();
}

function request(groupId: string, topics: Record<string, number[]>) {
  return { groupId, topics: Object.entries(topics).map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })) };
}

describe('OffsetDelete', () => {
  test('a simple group: the named offsets go (durably), others stay; unknown topics and partitions per partition', async () => {
    const h = harness();
    await commit(h, 'g', [
      ['orders', 0, 5],
      ['orders', 1, 6],
      ['audit', 0, 7],
    ]);
    const res = await callHandler(
      offsetDeleteHandler,
      fakeBroker(() => h.coordinator, TOPICS),
      0,
      request('g', { orders: [0, 2, 9], nope: [0] }),
    );
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.topics).toEqual([
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 9, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
          { partitionIndex: 0, errorCode: ErrorCode.NONE },
          { partitionIndex: 2, errorCode: ErrorCode.NONE },
        ],
      },
      { name: 'nope', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    expect(committed(h, 'g')).toEqual(['audit-0', 'orders-1']);
    // Tombstones in the log: a restart replays the deletion.
    h.restart();
    expect(committed(h, 'g')).toEqual(['audit-0', 'orders-1']);
  });

  test('an unknown group is GROUP_ID_NOT_FOUND', async () => {
    const h = harness();
    const res = await callHandler(
      offsetDeleteHandler,
      fakeBroker(() => h.coordinator, TOPICS),
      0,
      request('nobody', { orders: [0] }),
    );
    expect(res).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] });
  });

  test('a consumer group with members: GROUP_SUBSCRIBED_TO_TOPIC for the topics it consumes, the others deleted', async () => {
    const h = harness();
    const g = await stableGroup(h, 'c', 2, () => ({ protocols: [protocol('range', ...subscription('orders'))] }));
    await commit(
      h,
      'c',
      [
        ['orders', 0, 1],
        ['audit', 0, 2],
      ],
      { memberId: g.memberIds[0], generationId: g.generationId },
    );
    const res = await callHandler(
      offsetDeleteHandler,
      fakeBroker(() => h.coordinator, TOPICS),
      0,
      request('c', { orders: [0], audit: [0] }),
    );
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.topics).toEqual([
      { name: 'orders', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }] },
      { name: 'audit', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NONE }] },
    ]);
    expect(committed(h, 'c')).toEqual(['orders-0']);
  });

  test('a consumer group whose subscriptions do not parse is assumed to consume every topic', async () => {
    const h = harness();
    await stableGroup(h, 'c', 1, () => ({ protocols: [protocol('range', 1, 2)] }));
    const res = await callHandler(
      offsetDeleteHandler,
      fakeBroker(() => h.coordinator, TOPICS),
      0,
      request('c', { audit: [0] }),
    );
    expect(res.topics[0].partitions[0].errorCode).toBe(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
  });

  test('a group of another protocol type with members is NON_EMPTY_GROUP', async () => {
    const h = harness();
    await stableGroup(h, 'connect', 1, () => ({ protocolType: 'connect', protocols: [protocol('sessioned', 1)] }));
    const res = await callHandler(
      offsetDeleteHandler,
      fakeBroker(() => h.coordinator, TOPICS),
      0,
      request('connect', { audit: [0] }),
    );
    expect(res).toMatchObject({ errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] });
  });
});

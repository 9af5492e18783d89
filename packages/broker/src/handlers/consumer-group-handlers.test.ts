// ConsumerGroupHeartbeat and ConsumerGroupDescribe through the real codec (every version), on a
// coordinator with a manual clock; OffsetFetch v9's member checks.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import { callHandler } from '../testing/call-handler.ts';
import { consumerHarness } from '../testing/consumer-group-harness.ts';
import { consumerGroupDescribeHandler } from './consumer-group-describe.ts';
import { consumerGroupHeartbeatHandler } from './consumer-group-heartbeat.ts';
import { offsetFetchHandler } from './offset-fetch.ts';

function setUp() {
  const h = consumerHarness();
  const t = h.topics.create('orders', 3);
  const broker = {
    authorizer: null,
    get groups() {
      return h.coordinator;
    },
    topics: { getById: (id: string) => (id === t.id ? { name: 'orders' } : undefined) },
  } as unknown as BrokerContext;
  return { h, broker, topicId: t.id };
}

const join = (memberId: string, extra: object = {}) => ({
  groupId: 'g',
  memberId,
  memberEpoch: 0,
  instanceId: null,
  rackId: null,
  rebalanceTimeoutMs: 60_000,
  subscribedTopicNames: ['orders'],
  subscribedTopicRegex: null,
  serverAssignor: null,
  topicPartitions: [],
  ...extra,
});

describe('ConsumerGroupHeartbeat', () => {
  test.each([0, 1])('v%i: a join is answered with the epoch, the interval and the assignment by topic id', async (version) => {
    const { broker, topicId } = setUp();
    const res = await callHandler(consumerGroupHeartbeatHandler, broker, version, join(version === 0 ? '' : 'm1'));
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.memberEpoch).toBe(1);
    expect(res.heartbeatIntervalMs).toBe(5000);
    expect(res.memberId).not.toBe('');
    expect(res.assignment).toEqual({ topicPartitions: [{ topicId, partitions: [0, 1, 2] }] });
    // A plain heartbeat with nothing changed carries no assignment (null).
    const again = await callHandler(consumerGroupHeartbeatHandler, broker, version, {
      ...join(res.memberId, { memberEpoch: 1, rebalanceTimeoutMs: -1, subscribedTopicNames: null, topicPartitions: null }),
    });
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, memberEpoch: 1, assignment: null });
  });

  test('v1: a regex RE2 lacks is INVALID_REGULAR_EXPRESSION with a message', async () => {
    const { broker } = setUp();
    const res = await callHandler(consumerGroupHeartbeatHandler, broker, 1, join('m1', { subscribedTopicNames: null, subscribedTopicRegex: '(?=x)' }));
    expect(res.errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(res.errorMessage).toMatch(/lookaround/);
  });
});

describe('ConsumerGroupDescribe', () => {
  test.each([0, 1])('v%i: epochs, members and assignments with topic names; unknown ids GROUP_ID_NOT_FOUND', async (version) => {
    const { broker, topicId } = setUp();
    await callHandler(consumerGroupHeartbeatHandler, broker, 1, join('m1'));
    const res = await callHandler(consumerGroupDescribeHandler, broker, version, { groupIds: ['g', 'nope', ''], includeAuthorizedOperations: false });
    const [g, nope, empty] = res.groups;
    expect(g).toMatchObject({ errorCode: 0, groupId: 'g', groupState: 'Stable', groupEpoch: 1, assignmentEpoch: 1, assignorName: 'uniform' });
    expect(g.members).toHaveLength(1);
    expect(g.members[0]).toMatchObject({
      memberId: 'm1',
      memberEpoch: 1,
      clientId: 'test-client',
      subscribedTopicNames: ['orders'],
      memberType: version >= 1 ? 1 : -1,
    });
    expect(g.members[0].assignment.topicPartitions).toEqual([{ topicId, topicName: 'orders', partitions: [0, 1, 2] }]);
    expect(g.members[0].targetAssignment.topicPartitions).toEqual([{ topicId, topicName: 'orders', partitions: [0, 1, 2] }]);
    expect(nope).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group nope not found.' });
    expect(empty.errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });
});

describe('OffsetFetch v9 member checks', () => {
  test('an unknown member, a stale and a future epoch are group errors; epoch -1 reads', async () => {
    const { broker } = setUp();
    await callHandler(consumerGroupHeartbeatHandler, broker, 1, join('m1'));
    const fetch = async (memberId: string | null, memberEpoch: number) =>
      (await callHandler(offsetFetchHandler, broker, 9, { groups: [{ groupId: 'g', memberId, memberEpoch, topics: null }], requireStable: false })).groups[0]
        .errorCode;
    expect(await fetch('m1', 1)).toBe(ErrorCode.NONE);
    expect(await fetch('m1', 0)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(await fetch('m1', 2)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(await fetch('other', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(await fetch(null, -1)).toBe(ErrorCode.NONE);
  });
});

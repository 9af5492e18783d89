// Share groups through their handlers (ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch,
// ShareAcknowledge) on a test broker: membership and the simple assignor, share sessions,
// acquisition and acknowledgement, and Kafka's error codes for bad input.

import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { DEFAULT_SHARE_GROUP_CONFIG } from '../share/config.ts';
import { ShareCoordinator } from '../share/share-coordinator.ts';
import { MemoryShareStateLog } from '../share/share-state-log.ts';
import { silentLogger } from '../logger.ts';
import { deleteGroupsHandler } from './delete-groups.ts';
import { describeConfigsHandler } from './describe-configs.ts';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.ts';
import { listGroupsHandler } from './list-groups.ts';
import { harness } from '../testing/group-harness.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { shareAcknowledgeHandler } from './share-acknowledge.ts';
import { shareFetchHandler } from './share-fetch.ts';
import { shareGroupDescribeHandler } from './share-group-describe.ts';
import { shareGroupHeartbeatHandler } from './share-group-heartbeat.ts';
import { alterShareGroupOffsetsHandler, deleteShareGroupOffsetsHandler, describeShareGroupOffsetsHandler } from './share-group-offsets.ts';

let t: TestBroker;
let topicId: string;

beforeEach(() => {
  t = startTestBroker();
  const topic = t.broker.topicCreator.create('q', 1, 1, [], false).topic!;
  topicId = topic.id;
  // The group coordinator is asked whether a share group id belongs to another kind of group.
  t.broker.useGroupCoordinator(harness().coordinator);
});
afterEach(() => t.close());

function append(count: number): void {
  const records = Array.from({ length: count }, (_, i) => ({ key: null, value: `v${i}`, timestamp: 1000 }));
  t.topics.get('q')!.partitions[0].append(buildRecordBatch({ records }), Date.now());
}

const heartbeat = (memberId: string, memberEpoch: number, subscribedTopicNames: string[] | null = ['q']) =>
  callHandler(shareGroupHeartbeatHandler, t.broker, 1, { groupId: 'sg', memberId, memberEpoch, rackId: null, subscribedTopicNames });

type Ack = { firstOffset: number; lastOffset: number; acknowledgeTypes: number[] };

const fetch = (memberId: string, shareSessionEpoch: number, acks: Ack[] = [], extra: object = {}) =>
  callHandler(shareFetchHandler, t.broker, 2, {
    groupId: 'sg',
    memberId,
    shareSessionEpoch,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    maxRecords: 3,
    batchSize: 3,
    shareAcquireMode: 1,
    isRenewAck: false,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
    forgottenTopicsData: [],
    ...extra,
  });

const acknowledge = (memberId: string, shareSessionEpoch: number, acks: Ack[]) =>
  callHandler(shareAcknowledgeHandler, t.broker, 2, {
    groupId: 'sg',
    memberId,
    shareSessionEpoch,
    isRenewAck: false,
    topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
  });

const acquired = (res: any) => res.responses.flatMap((r: any) => r.partitions.flatMap((p: any) => p.acquiredRecords));
const partitionOf = (res: any) => res.responses[0].partitions[0];

describe('ShareGroupHeartbeat and ShareGroupDescribe', () => {
  test('two members of a one-partition topic share the partition; describe shows them', async () => {
    const a = await heartbeat('member-a', 0);
    expect(a).toMatchObject({ errorCode: 0, memberId: 'member-a', heartbeatIntervalMs: 5000, assignment: { topicPartitions: [{ topicId, partitions: [0] }] } });
    const b = await heartbeat('member-b', 0);
    expect(b.assignment).toEqual({ topicPartitions: [{ topicId, partitions: [0] }] });
    expect(b.memberEpoch).toBeGreaterThan(a.memberEpoch);
    // a's epoch is behind the group's now: its next heartbeat moves it, assignment included.
    const again = await heartbeat('member-a', a.memberEpoch, null);
    expect(again).toMatchObject({ errorCode: 0, memberEpoch: b.memberEpoch });
    const unchanged = await heartbeat('member-a', again.memberEpoch, null);
    expect(unchanged).toMatchObject({ errorCode: 0, memberEpoch: again.memberEpoch, assignment: null });

    const described = await callHandler(shareGroupDescribeHandler, t.broker, 1, { groupIds: ['sg', 'nope'], includeAuthorizedOperations: false });
    expect(described.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', assignorName: 'simple', groupEpoch: b.memberEpoch });
    expect(described.groups[0].members.map((m: any) => [m.memberId, m.assignment.topicPartitions[0].topicName]).sort()).toEqual([
      ['member-a', 'q'],
      ['member-b', 'q'],
    ]);
    expect(described.groups[1].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    expect((await heartbeat('member-b', -1)).memberEpoch).toBe(-1);
    const left = await callHandler(shareGroupDescribeHandler, t.broker, 1, { groupIds: ['sg'], includeAuthorizedOperations: false });
    expect(left.groups[0].members.map((m: any) => m.memberId)).toEqual(['member-a']);
  });

  test('ListGroups v5 lists share groups as type share, filtered by type and state', async () => {
    await heartbeat('m', 0);
    const list = (typesFilter: string[], statesFilter: string[] = []) => callHandler(listGroupsHandler, t.broker, 5, { statesFilter, typesFilter });
    expect((await list([])).groups).toEqual([{ groupId: 'sg', protocolType: 'share', groupState: 'Stable', groupType: 'share' }]);
    expect((await list(['Share'], ['stable'])).groups.map((g: any) => g.groupId)).toEqual(['sg']);
    expect((await list(['consumer'])).groups).toEqual([]);
    expect((await list([], ['Empty'])).groups).toEqual([]);
  });

  test("Kafka's errors: no subscription on join, unknown member, fenced epoch, empty member id", async () => {
    expect((await heartbeat('m', 0, null)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await heartbeat('', 0)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await heartbeat('ghost', 3)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const joined = await heartbeat('m', 0);
    expect((await heartbeat('m', joined.memberEpoch + 5)).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
  });

  test('a consumer group id is not a share group: GROUP_ID_NOT_FOUND', async () => {
    const g = t.broker.groups;
    await g.commitOffsets({
      groupId: 'sg',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 'q', partition: 0, offset: 0, leaderEpoch: -1, metadata: '' }],
    });
    expect(await heartbeat('m', 0)).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg is not a share group.' });
  });
});

describe('ShareFetch and ShareAcknowledge', () => {
  test('members acquire disjoint records, acknowledge them, and a closed session releases what it held', async () => {
    // The share-partition starts at the log end (share.auto.offset.reset=latest).
    expect((await fetch('a', 0)).errorCode).toBe(0);
    append(5);
    append(5);
    const a1 = await fetch('a', 1);
    expect(a1).toMatchObject({ errorCode: 0, acquisitionLockTimeoutMs: 30_000 });
    expect(acquired(a1)).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    // Whole batches go out: the first batch holds offsets 0-4.
    expect(partitionOf(a1).records.byteLength).toBeGreaterThan(0);

    const b0 = await fetch('b', 0);
    expect(acquired(b0)).toEqual([{ firstOffset: 3, lastOffset: 5, deliveryCount: 1 }]);

    // a accepts its records; acknowledging b's is INVALID_RECORD_STATE (nothing changes).
    const ok = await acknowledge('a', 2, [{ firstOffset: 0, lastOffset: 2, acknowledgeTypes: [1] }]);
    expect(ok).toMatchObject({ errorCode: 0, acquisitionLockTimeoutMs: 30_000 });
    expect(ok.responses[0].partitions[0].errorCode).toBe(0);
    const theirs = await acknowledge('a', 3, [{ firstOffset: 3, lastOffset: 3, acknowledgeTypes: [1] }]);
    expect(theirs.responses[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    const again = await acknowledge('a', 4, [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }]);
    expect(again.responses[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    expect(t.broker.share.sharePartition('sg', { topicId, partition: 0 })?.startOffset).toBe(3);

    // b closes its session (epoch -1) releasing offsets 3-5, with a piggy-backed release of 3.
    const closed = await fetch('b', -1, [{ firstOffset: 3, lastOffset: 3, acknowledgeTypes: [2] }]);
    expect(closed.errorCode).toBe(0);
    expect(partitionOf(closed)).toMatchObject({ acknowledgeErrorCode: 0, acquiredRecords: [] });
    const a5 = await fetch('a', 5);
    expect(acquired(a5)).toEqual([{ firstOffset: 3, lastOffset: 5, deliveryCount: 2 }]);
  });

  test('a closed connection ends its share sessions and releases what they held at once', async () => {
    await fetch('a', 0);
    append(3);
    expect(acquired(await fetch('a', 1))).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    // callHandler's requests come on connection 1.
    t.broker.share.connectionClosed(2);
    expect((await fetch('a', 2)).errorCode).toBe(0);
    t.broker.share.connectionClosed(1);
    expect((await fetch('a', 3)).errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    expect(acquired(await fetch('b', 0))).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 2 }]);
  });

  test('session errors: unknown session, wrong epoch, acknowledgements on a new session, ShareAcknowledge opening one', async () => {
    expect((await fetch('x', 4)).errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    expect((await acknowledge('x', 1, [])).errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    expect((await acknowledge('x', 0, [])).errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    expect((await fetch('x', 0, [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [1] }])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await fetch('x', 0)).errorCode).toBe(0);
    expect((await fetch('x', 7)).errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    expect((await fetch('x', 1)).errorCode).toBe(0);
    expect((await fetch('', 0)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('a renew-only request (v2) must not ask to fetch; malformed acknowledgements are INVALID_REQUEST', async () => {
    await fetch('r', 0);
    append(3);
    expect(acquired(await fetch('r', 1))).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    expect((await fetch('r', 2, [], { isRenewAck: true })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const renew = await fetch('r', 2, [{ firstOffset: 0, lastOffset: 2, acknowledgeTypes: [4] }], {
      isRenewAck: true,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 0,
      maxRecords: 0,
    });
    expect(renew.errorCode).toBe(0);
    expect(partitionOf(renew)).toMatchObject({ acknowledgeErrorCode: 0, acquiredRecords: [] });
    const bad = await acknowledge('r', 3, [{ firstOffset: 0, lastOffset: 2, acknowledgeTypes: [1, 1] }]);
    expect(bad.responses[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('an unknown topic id is UNKNOWN_TOPIC_ID for that partition', async () => {
    const res = await callHandler(shareFetchHandler, t.broker, 1, {
      groupId: 'sg',
      memberId: 'u',
      shareSessionEpoch: 0,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1000,
      maxRecords: 10,
      batchSize: 10,
      topics: [{ topicId: '0123456789abcdef0123456789abcdef', partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
      forgottenTopicsData: [],
    });
    expect(partitionOf(res).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });
});

describe('share group configs (GROUP resources) and DeleteGroups', () => {
  const alter = (configs: Array<{ name: string; configOperation: number; value: string | null }>, validateOnly = false) =>
    callHandler(incrementalAlterConfigsHandler, t.broker, 1, { resources: [{ resourceType: 32, resourceName: 'sg', configs }], validateOnly });
  const describeGroup = () =>
    callHandler(describeConfigsHandler, t.broker, 4, {
      resources: [{ resourceType: 32, resourceName: 'sg', configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });

  test('share.auto.offset.reset=earliest and a group lock duration take effect, are described, and survive a reload', async () => {
    append(4);
    const res = await alter([
      { name: 'share.auto.offset.reset', configOperation: 0, value: 'earliest' },
      { name: 'share.record.lock.duration.ms', configOperation: 0, value: '20000' },
    ]);
    expect(res.responses[0]).toMatchObject({ errorCode: 0, resourceType: 32, resourceName: 'sg' });
    const fetched = await fetch('a', 0);
    expect(fetched.acquisitionLockTimeoutMs).toBe(20_000);
    expect(acquired(fetched)).toEqual([{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }]);
    const described = (await describeGroup()).results[0];
    expect(described.errorCode).toBe(0);
    expect(described.configs.find((c: any) => c.name === 'share.auto.offset.reset')).toMatchObject({ value: 'earliest', configSource: 8 });
    expect(described.configs.find((c: any) => c.name === 'share.session.timeout.ms')).toMatchObject({ value: '45000', configSource: 5 });
  });

  test('the configs are replayed from the state log with the share-partitions', async () => {
    const log = new MemoryShareStateLog();
    const make = () =>
      new ShareCoordinator({
        config: DEFAULT_SHARE_GROUP_CONFIG,
        stateLog: log,
        topicRegistry: t.topics,
        topics: { byName: () => undefined, all: () => [] },
        logger: silentLogger,
      });
    const first = make();
    await first.alterGroupConfigs('g', [{ name: 'share.record.lock.duration.ms', operation: 0, value: '16000' }], false);
    const second = make();
    second.load();
    expect(second.lockDurationMs('g')).toBe(16_000);
    await second.alterGroupConfigs('g', [{ name: 'share.record.lock.duration.ms', operation: 1, value: null }], false);
    const third = make();
    third.load();
    expect(third.lockDurationMs('g')).toBe(30_000);
  });

  test('unknown names, values out of bounds and APPEND are INVALID_CONFIG; validateOnly changes nothing', async () => {
    for (const config of [
      { name: 'share.nope', configOperation: 0, value: '1' },
      { name: 'share.record.lock.duration.ms', configOperation: 0, value: '1000' },
      { name: 'share.auto.offset.reset', configOperation: 0, value: 'by_duration:PT1H' },
      { name: 'share.auto.offset.reset', configOperation: 2, value: 'latest' },
    ]) {
      expect((await alter([config])).responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
    }
    expect((await alter([{ name: 'share.auto.offset.reset', configOperation: 0, value: 'earliest' }], true)).responses[0].errorCode).toBe(0);
    expect((await describeGroup()).results[0].configs.find((c: any) => c.name === 'share.auto.offset.reset')).toMatchObject({
      value: 'latest',
      configSource: 5,
    });
  });

  test('DeleteGroups deletes an empty share group with its state; one with members is NON_EMPTY_GROUP', async () => {
    await heartbeat('m', 0);
    await fetch('m', 0);
    const busy = await callHandler(deleteGroupsHandler, t.broker, 2, { groupsNames: ['sg'] });
    expect(busy.results).toEqual([{ groupId: 'sg', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await heartbeat('m', -1);
    const done = await callHandler(deleteGroupsHandler, t.broker, 2, { groupsNames: ['sg'] });
    expect(done.results[0].errorCode).toBe(0);
    expect(t.broker.share.sharePartition('sg', { topicId, partition: 0 })).toBeUndefined();
    expect((await callHandler(shareGroupDescribeHandler, t.broker, 1, { groupIds: ['sg'], includeAuthorizedOperations: false })).groups[0].errorCode).toBe(
      ErrorCode.GROUP_ID_NOT_FOUND,
    );
  });
});

describe('DescribeShareGroupOffsets, AlterShareGroupOffsets, DeleteShareGroupOffsets', () => {
  const describeOffsets = (topics: Array<{ topicName: string; partitions: number[] }> | null = null) =>
    callHandler(describeShareGroupOffsetsHandler, t.broker, 0, { groups: [{ groupId: 'sg', topics }] });

  test('describe shows the start offset; alter moves it for an empty group; delete forgets it', async () => {
    expect((await describeOffsets()).groups[0].errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    append(6);
    await heartbeat('m', 0);
    await fetch('m', 0);
    append(2);
    expect((await describeOffsets()).groups[0]).toMatchObject({
      errorCode: 0,
      topics: [{ topicName: 'q', topicId, partitions: [{ partitionIndex: 0, startOffset: 6, leaderEpoch: 0, errorCode: 0 }] }],
    });
    const alter = (startOffset: number, topicName = 'q') =>
      callHandler(alterShareGroupOffsetsHandler, t.broker, 0, { groupId: 'sg', topics: [{ topicName, partitions: [{ partitionIndex: 0, startOffset }] }] });
    expect((await alter(2)).errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    await heartbeat('m', -1);
    const altered = await alter(2);
    expect(altered).toMatchObject({ errorCode: 0, responses: [{ topicName: 'q', topicId, partitions: [{ partitionIndex: 0, errorCode: 0 }] }] });
    expect((await alter(0, 'nope')).responses[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await describeOffsets([{ topicName: 'q', partitions: [0, 5] }])).groups[0].topics[0].partitions).toMatchObject([
      { partitionIndex: 0, startOffset: 2, errorCode: 0 },
      { partitionIndex: 5, startOffset: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
    // The next member starts from the altered offset.
    await heartbeat('n', 0);
    expect(acquired(await fetch('n', 0))).toEqual([{ firstOffset: 2, lastOffset: 4, deliveryCount: 1 }]);
    await heartbeat('n', -1);

    const deleted = await callHandler(deleteShareGroupOffsetsHandler, t.broker, 0, { groupId: 'sg', topics: [{ topicName: 'q' }, { topicName: 'nope' }] });
    expect(deleted).toMatchObject({
      errorCode: 0,
      responses: [
        { topicName: 'q', errorCode: 0 },
        { topicName: 'nope', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
      ],
    });
    expect(t.broker.share.sharePartition('sg', { topicId, partition: 0 })).toBeUndefined();
  });
});

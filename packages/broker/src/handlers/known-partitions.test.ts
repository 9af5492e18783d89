// A coordinator checks the partitions a request names against the cluster's topics, not the logs
// it holds (librdkafka's 0129_fetch_aborted_msgs against three brokers: a replication-factor-1
// topic on another broker than the transaction coordinator was UNKNOWN_TOPIC_OR_PARTITION to
// AddPartitionsToTxn for ever, and the transaction's records timed out). One broker on the memory
// store; a topic whose only replica is another broker written to etcd as that broker would.

import { ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { harness } from '../testing/group-harness.ts';
import { type MemoryCluster, startMemoryCluster } from '../testing/memory-cluster.ts';
import type { ApiHandler } from './handler.ts';
import { createHandlerRegistry } from './index.ts';
import { clusterPartitionCount, partitionExists, topicImages } from './known-partitions.ts';

const registry = createHandlerRegistry();
const call = (key: number, version: number, body: object) => callHandler(registry.get(key) as ApiHandler, c.t.broker, version, body);
let c: MemoryCluster;

beforeEach(async () => {
  c = await startMemoryCluster();
  await c.remoteTopic('elsewhere', 2);
});
afterEach(() => c.close());

describe('partitions as the cluster knows them', () => {
  test('a topic with no replica here exists, with its partition count; this broker holds no log of it', () => {
    expect(c.t.topics.get('elsewhere')).toBeUndefined();
    expect(clusterPartitionCount(c.t.broker, 'elsewhere')).toBe(2);
    expect([0, 1, 2, -1].map((p) => partitionExists(c.t.broker, 'elsewhere', p))).toEqual([true, true, false, false]);
    expect(clusterPartitionCount(c.t.broker, 'nowhere')).toBeUndefined();
  });

  test('KIP-848 consumer groups see the same topics: ids and partition counts from etcd, local internal topics too', () => {
    c.t.broker.topicCreator.create('__transaction_state', 3, 1, [], false);
    const images = topicImages(c.t.broker);
    expect(images.byName('elsewhere')).toEqual({ id: 'ab'.repeat(16), name: 'elsewhere', partitionCount: 2 });
    expect(images.byName('nowhere')).toBeUndefined();
    expect([...images.all()].map((i) => [i.name, i.partitionCount])).toEqual([
      ['elsewhere', 2],
      ['__transaction_state', 3],
    ]);
  });

  test('a topic gone from etcd is gone, even while a local log of it remains', async () => {
    c.t.broker.topicCreator.create('stale', 1, 1, [], false);
    await c.store.delete(c.keys.topic('stale'));
    await c.settle();
    expect(partitionExists(c.t.broker, 'stale', 0)).toBe(false);
  });

  test('AddPartitionsToTxn adds a partition led by another broker (Kafka checks its metadata cache)', async () => {
    const init = await call(22, 4, { transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    expect(init.errorCode).toBe(ErrorCode.NONE);
    const add = (partitions: number[]) =>
      call(24, 3, {
        v3AndBelowTransactionalId: 'tx',
        v3AndBelowProducerId: init.producerId,
        v3AndBelowProducerEpoch: init.producerEpoch,
        v3AndBelowTopics: [{ name: 'elsewhere', partitions }],
      });
    expect((await add([0])).resultsByTopicV3AndBelow[0].resultsByPartition).toEqual([{ partitionIndex: 0, partitionErrorCode: ErrorCode.NONE }]);
    expect((await add([1, 5])).resultsByTopicV3AndBelow[0].resultsByPartition).toEqual([
      { partitionIndex: 1, partitionErrorCode: ErrorCode.OPERATION_NOT_ATTEMPTED },
      { partitionIndex: 5, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    ]);
  });

  test('OffsetCommit of a group without members commits offsets of a topic led by another broker', async () => {
    c.t.broker.useGroupCoordinator(harness().coordinator);
    const commit = await call(8, 9, {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'elsewhere', partitions: [{ partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(commit.topics[0].partitions).toEqual([{ partitionIndex: 1, errorCode: ErrorCode.NONE }]);
    expect(c.t.broker.groups.fetchOffsets('g', [{ name: 'elsewhere', partitionIndexes: [1] }]).topics[0].partitions[0]).toMatchObject({ committedOffset: 7 });
  });
});

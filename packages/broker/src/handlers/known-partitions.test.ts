// A coordinator checks the partitions a request names against the cluster's topics, not the logs
// it holds (librdkafka's 0129_fetch_aborted_msgs against three brokers: a replication-factor-1
// topic on another broker than the transaction coordinator was UNKNOWN_TOPIC_OR_PARTITION to
// AddPartitionsToTxn for ever, and the transaction's records timed out). One broker on the memory
// store; a topic whose only replica is another broker is written to etcd as that broker would.

import { ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ClusterNode } from '../cluster/cluster-node.ts';
import { MemoryKvStore } from '../cluster/etcd/memory-store.ts';
import { ClusterKeys, encode } from '../cluster/keys.ts';
import { silentLogger } from '../logger.ts';
import { callHandler } from '../testing/call-handler.ts';
import { harness } from '../testing/group-harness.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import type { ApiHandler } from './handler.ts';
import { createHandlerRegistry } from './index.ts';
import { clusterPartitionCount, partitionExists } from './known-partitions.ts';

const registry = createHandlerRegistry();
const call = (key: number, version: number, body: object) => callHandler(registry.get(key) as ApiHandler, t.broker, version, body);
let t: TestBroker;
let node: ClusterNode;
let store: MemoryKvStore;

/** Writes a topic whose every partition has broker 2 (not this one) as its only replica. */
async function remoteTopic(name: string, partitions: number): Promise<void> {
  const keys = new ClusterKeys('/test');
  await store.put(keys.topic(name), encode({ id: 'ab'.repeat(16), configs: {}, replicas: Array.from({ length: partitions }, () => [2]) }));
  for (let p = 0; p < partitions; p++)
    await store.put(keys.partition(name, p), encode({ leader: 2, leaderEpoch: 0, isr: [{ id: 2, brokerEpoch: 1 }], partitionEpoch: 0 }));
  await node.view.waitForRevision(store.currentRevision);
}

beforeEach(async () => {
  t = startTestBroker();
  store = new MemoryKvStore();
  const settings = {
    endpoints: ['memory'],
    prefix: '/test',
    nodeId: t.config.nodeId,
    rack: null,
    sessionTimeoutMs: 9000,
    replicaLagMs: 3_600_000,
    interBrokerListener: 'PLAINTEXT',
    fetcher: { maxWaitMs: 500, maxBytes: 1 << 20, partitionMaxBytes: 1 << 20, requestTimeoutMs: 1000 },
  };
  node = new ClusterNode(settings, silentLogger, store);
  await node.clusterId('the-cluster', null);
  await node.join([{ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 9092 }], 'dir-1', t.topics);
  t.broker.useCluster(node);
  await remoteTopic('elsewhere', 2);
});
afterEach(async () => {
  await node.stop();
  t.close();
});

describe('partitions as the cluster knows them', () => {
  test('a topic with no replica here exists, with its partition count; this broker holds no log of it', () => {
    expect(t.topics.get('elsewhere')).toBeUndefined();
    expect(clusterPartitionCount(t.broker, 'elsewhere')).toBe(2);
    expect([0, 1, 2, -1].map((p) => partitionExists(t.broker, 'elsewhere', p))).toEqual([true, true, false, false]);
    expect(clusterPartitionCount(t.broker, 'nowhere')).toBeUndefined();
  });

  test('a topic gone from etcd is gone, even while a local log of it remains', async () => {
    t.broker.topicCreator.create('stale', 1, 1, [], false);
    const keys = new ClusterKeys('/test');
    await store.delete(keys.topic('stale'));
    await node.view.waitForRevision(store.currentRevision);
    expect(partitionExists(t.broker, 'stale', 0)).toBe(false);
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
    t.broker.useGroupCoordinator(harness().coordinator);
    const commit = await call(8, 9, {
      groupId: 'g',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'elsewhere', partitions: [{ partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(commit.topics[0].partitions).toEqual([{ partitionIndex: 1, errorCode: ErrorCode.NONE }]);
    expect(t.broker.groups.fetchOffsets('g', [{ name: 'elsewhere', partitionIndexes: [1] }]).topics[0].partitions[0]).toMatchObject({ committedOffset: 7 });
  });
});

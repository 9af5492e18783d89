// CreateTopics with explicit replica assignments in cluster mode (librdkafka's 0081_admin against
// three brokers: they were refused as not served), checked as Kafka's controller checks them.
// One broker (node 1) on the memory store, the only live one.

import { ErrorCode } from '@sluice/protocol';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { type MemoryCluster, startMemoryCluster } from '../testing/memory-cluster.ts';
import { createTopicsHandler } from './create-topics.ts';

let c: MemoryCluster;
beforeEach(async () => {
  c = await startMemoryCluster();
});
afterEach(() => c.close());

const create = (name: string, assignments: Array<[number, number[]]>) =>
  callHandler(createTopicsHandler, c.t.broker, 7, {
    topics: [
      {
        name,
        numPartitions: -1,
        replicationFactor: -1,
        assignments: assignments.map(([partitionIndex, brokerIds]) => ({ partitionIndex, brokerIds })),
        configs: [],
      },
    ],
    timeoutMs: 5000,
    validateOnly: false,
  });

test('the replicas as named, in etcd: the first replica leads, every replica in the ISR', async () => {
  const nodeId = c.t.config.nodeId;
  const res = await create('manual', [
    [1, [nodeId]],
    [0, [nodeId]],
  ]);
  expect(res.topics[0]).toMatchObject({ errorCode: ErrorCode.NONE, numPartitions: 2, replicationFactor: 1 });
  expect(c.node.view.topics.get('manual')?.record.replicas).toEqual([[nodeId], [nodeId]]);
  expect(c.node.view.partition('manual', 1)?.record).toMatchObject({ leader: nodeId, leaderEpoch: 0, isr: [{ id: nodeId }] });
  expect(c.t.topics.get('manual')?.partitions).toHaveLength(2);
});

test('a broker that is not registered, a gap, a repeat: INVALID_REPLICA_ASSIGNMENT and nothing written', async () => {
  const nodeId = c.t.config.nodeId;
  const refusals = [
    await create('unknown-broker', [[0, [nodeId + 5]]]),
    await create('gap', [
      [0, [nodeId]],
      [2, [nodeId]],
    ]),
    await create('twice', [[0, [nodeId, nodeId]]]),
  ];
  expect(refusals.map((r) => [r.topics[0].errorCode, r.topics[0].errorMessage])).toEqual([
    [ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${nodeId + 5}, but no such broker is registered.`],
    [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions should be a consecutive 0-based integer sequence'],
    [ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${nodeId} more than once.`],
  ]);
  for (const name of ['unknown-broker', 'gap', 'twice']) expect(c.node.view.topics.has(name)).toBe(false);
});

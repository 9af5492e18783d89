// kafkajs against a 3-broker cluster on etcd: an idempotent producer (acks=all) writes to an RF=3,
// min.insync.replicas=2 topic while the leader of a partition is killed with SIGKILL; it moves to
// the new leader by itself (NOT_LEADER_OR_FOLLOWER, Metadata), and afterwards a consumer group
// reads every acknowledged record exactly once, in order per partition.

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { partitionViews, TestCluster } from './support/cluster.ts';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start({
    prefix: '/kafkajs',
    overrides: {
      'broker.session.timeout.ms': 3000,
      'replica.lag.time.max.ms': 5000,
      // The consumer group starts after a broker was killed: __consumer_offsets (created then)
      // needs as many live brokers as its replication factor, as Kafka's.
      'offsets.topic.replication.factor': 2,
    },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

async function leaderOf(partition: number, via: BrokerProcess): Promise<number> {
  return (await partitionViews(via, 'orders')).find((p) => p.partition === partition)!.leader;
}

test('an idempotent acks=all producer rides through a leader kill; a consumer group reads every record once, in order', async () => {
  const kafka = new Kafka({
    clientId: 'cluster-test',
    brokers: cluster.bootstrap(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 15, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  expect(
    await admin.createTopics({
      topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
      waitForLeaders: true,
    }),
  ).toBe(true);
  await admin.disconnect();

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = new Map<number, string[]>([
    [0, []],
    [1, []],
    [2, []],
  ]);
  const send = async (i: number) => {
    const partition = i % 3;
    const value = `record-${i}`;
    await producer.send({ topic: 'orders', acks: -1, messages: [{ partition, value }] });
    sent.get(partition)!.push(value);
  };
  for (let i = 0; i < 60; i++) await send(i);
  const victim = await leaderOf(0, cluster.broker(1));
  await cluster.kill(victim);
  for (let i = 60; i < 120; i++) await send(i);
  await producer.disconnect();

  const survivor = cluster.broker(cluster.nodeIds.find((id) => id !== victim)!);
  expect(await leaderOf(0, survivor)).not.toBe(victim);

  const consumer = kafka.consumer({ groupId: 'readers', sessionTimeout: 10_000, rebalanceTimeout: 10_000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'orders', fromBeginning: true });
  const received = new Map<number, string[]>([
    [0, []],
    [1, []],
    [2, []],
  ]);
  let count = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      received.get(partition)!.push(message.value!.toString());
      count++;
    },
  });
  const deadline = Date.now() + 30_000;
  while (count < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  expect(received).toEqual(sent);
}, 120_000);

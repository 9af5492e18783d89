// The group coordinator moves with the leadership of its __consumer_offsets partition: three
// brokers on etcd, a kafkajs consumer group commits what it read, the broker coordinating the
// group is killed with SIGKILL, and the group's committed offsets are still there — fetched from
// the new coordinator (the new leader of the partition, loaded from the replicated log), and the
// same consumer carries on from them without reading anything twice.

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';

let cluster: TestCluster;
const WAIT = { timeoutMs: 20_000, intervalMs: 200 };

beforeAll(async () => {
  cluster = await TestCluster.start({
    prefix: '/coordinator',
    overrides: { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000, 'offsets.topic.num.partitions': 3 },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

/** FindCoordinator (v3) for a group, asked of `via`: the coordinator's node id and error. */
async function coordinatorOf(groupId: string, via: BrokerProcess): Promise<{ errorCode: number; nodeId: number }> {
  const client = await RawClient.connect(via.port);
  try {
    const answer = await client.request(10, 3, { key: groupId, keyType: 0 });
    return { errorCode: answer.errorCode, nodeId: answer.nodeId };
  } finally {
    client.close();
  }
}

test('a consumer group keeps its committed offsets when its coordinator is killed', async () => {
  const kafka = new Kafka({
    clientId: 'coordinator-test',
    brokers: cluster.bootstrap(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  expect(await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true })).toBe(true);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const send = async (from: number, to: number) => {
    for (let i = from; i < to; i++) await producer.send({ topic: 'events', acks: -1, messages: [{ partition: i % 2, value: `event-${i}` }] });
  };
  await send(0, 40);

  // Every broker names the same coordinator: the leader of the group's offsets partition.
  const group = 'survivors';
  const found = await eventually(async () => {
    const answers = await Promise.all(cluster.all().map((b) => coordinatorOf(group, b)));
    for (const a of answers) expect(a).toEqual({ errorCode: 0, nodeId: answers[0].nodeId });
    return answers[0].nodeId;
  }, WAIT);

  const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'events', fromBeginning: true });
  const received: string[] = [];
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      // Commit each record before taking the next; a record counts as read once its commit is
      // acknowledged (a commit refused while the coordinator moves redelivers the record).
      await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
      received.push(message.value!.toString());
    },
  });
  await eventually(async () => expect(received.length).toBe(40), WAIT);
  const committed = async () =>
    (await admin.fetchOffsets({ groupId: group, topics: ['events'] }))[0].partitions.map((p) => ({ partition: p.partition, offset: p.offset }));
  /** The group has committed all 40 records (20 a partition). */
  const everythingCommitted = () =>
    eventually(
      async () =>
        expect(await committed()).toEqual([
          { partition: 0, offset: '20' },
          { partition: 1, offset: '20' },
        ]),
      WAIT,
    );
  await everythingCommitted();

  await cluster.kill(found);

  // The partition has a new leader, which coordinates the group now, with its offsets.
  const survivor = cluster.live()[0];
  const moved = await eventually(async () => {
    const answer = await coordinatorOf(group, survivor);
    expect(answer.errorCode).toBe(0);
    expect(answer.nodeId).not.toBe(found);
    return answer.nodeId;
  }, WAIT);
  expect(cluster.isLive(moved)).toBe(true);
  await everythingCommitted();

  // The same consumer goes on from the committed offsets: the new records, nothing twice.
  await send(40, 60);
  await eventually(async () => expect(received.length).toBeGreaterThanOrEqual(60), { ...WAIT, timeoutMs: 40_000 });
  await new Promise((r) => setTimeout(r, 1000));
  await consumer.disconnect();
  await producer.disconnect();
  await admin.disconnect();
  // Anything read twice would have been read again from offsets the group lost.
  expect(received.filter((v, i) => received.indexOf(v) !== i)).toEqual([]);
  expect(received.length).toBe(60);
  expect([...received].sort()).toEqual(Array.from({ length: 60 }, (_, i) => `event-${i}`).sort());
}, 150_000);

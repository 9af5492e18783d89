// A single node becomes the first broker of a cluster: a kafkajs consumer group commits offsets on
// a plain single-node broker, which is stopped and started again on the same data with etcd
// endpoints set. Its topics and its __consumer_offsets are published to the cluster, it
// coordinates the group (leader of every offsets partition), and the group's committed offsets
// are still there.

import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { TestCluster } from './support/cluster.ts';

/** etcd alone: the single node joins it as broker 1 half way through the test. */
let cluster: TestCluster;
let broker: BrokerProcess | null = null;
const dataDir = tempDataDir('sluice-migration-');

beforeAll(async () => {
  cluster = await TestCluster.start({ prefix: '/migration', brokers: 0 });
}, 60_000);

afterAll(async () => {
  await broker?.kill();
  await cluster?.stop();
  removeDir(dataDir);
});

test("a single node's committed offsets survive its move into cluster mode", async () => {
  broker = await startBroker({ dataDir, overrides: { 'offsets.topic.num.partitions': 3 } });
  const client = () =>
    new Kafka({ clientId: 'migration-test', brokers: [broker!.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 200 } });
  let kafka = client();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'legacy', numPartitions: 2 }] });
  await admin.setOffsets({
    groupId: 'old-group',
    topic: 'legacy',
    partitions: [
      { partition: 0, offset: '0' },
      { partition: 1, offset: '0' },
    ],
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'legacy', messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: `v${i}` })) });
  await producer.disconnect();
  await admin.setOffsets({
    groupId: 'old-group',
    topic: 'legacy',
    partitions: [
      { partition: 0, offset: '4' },
      { partition: 1, offset: '5' },
    ],
  });
  await admin.disconnect();
  const port = broker.port;
  expect(await broker.stop()).toBe(0);

  broker = await cluster.add(1, { 'offsets.topic.num.partitions': 3 }, { dataDir, port });
  kafka = client();
  const after = kafka.admin();
  await after.connect();
  const offsets = await after.fetchOffsets({ groupId: 'old-group', topics: ['legacy'] });
  const topics = await after.fetchTopicMetadata({ topics: ['__consumer_offsets', 'legacy'] });
  await after.disconnect();
  expect(offsets[0].partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
    [0, '4'],
    [1, '5'],
  ]);
  for (const t of topics.topics) for (const p of t.partitions) expect({ leader: p.leader, replicas: p.replicas }).toEqual({ leader: 1, replicas: [1] });
}, 120_000);

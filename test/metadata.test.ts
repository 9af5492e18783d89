// Metadata edge cases against a real broker process: lookup by topic id (v12+ only), unknown
// ids, v0's "empty list means all topics", and authorized operations (with DescribeCluster's).

import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

let broker: BrokerProcess;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker();
  client = await RawClient.connect(broker.port);
  const created = await client.request(19, 7, {
    topics: [{ name: 'md', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }],
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(created.topics[0].errorCode).toBe(0);
});

afterAll(async () => {
  client?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

const byName = (name: string) => ({
  topics: [{ name, topicId: '00000000000000000000000000000000' }],
  allowAutoTopicCreation: false,
  includeTopicAuthorizedOperations: false,
});
const byId = (topicId: string) => ({ topics: [{ name: null, topicId }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });

test('v12 looks topics up by id; an unknown id is UNKNOWN_TOPIC_ID', async () => {
  const named = await client.request(3, 12, byName('md'));
  const id = named.topics[0].topicId;
  expect(id).not.toBe('00000000000000000000000000000000');
  const found = await client.request(3, 12, byId(id));
  expect(found.topics[0]).toMatchObject({ errorCode: 0, name: 'md', topicId: id });
  expect(found.topics[0].partitions).toHaveLength(2);
  const unknown = await client.request(3, 12, byId('0123456789abcdef0123456789abcdef'));
  expect(unknown.topics[0]).toMatchObject({ errorCode: 100, name: null });
});

test('before v12 a lookup by id is INVALID_REQUEST and the connection stays usable', async () => {
  const answer = await client.request(3, 10, byId('0123456789abcdef0123456789abcdef'));
  expect(answer.topics[0].errorCode).toBe(42);
  const again = await client.request(3, 10, byName('md'));
  expect(again.topics[0].errorCode).toBe(0);
});

test('v0 treats an empty topic list as all topics; v1+ as none', async () => {
  const v0 = await client.request(3, 0, { topics: [] });
  expect(v0.topics.map((t: { name: string }) => t.name)).toContain('md');
  const v1 = await client.request(3, 1, { topics: [] });
  expect(v1.topics).toHaveLength(0);
});

// KIP-430: with no authorizer every operation is allowed, and Kafka answers the full set a
// resource type supports when asked (librdkafka's 0081_admin counts them: 8 topic, 7 cluster).
const opsCount = (field: number) => [...Array(32).keys()].filter((bit) => (field & (1 << bit)) !== 0).length;
const OMITTED = -2147483648;

test('authorized operations, when asked for: every topic and cluster operation; otherwise omitted', async () => {
  const asked = await client.request(3, 10, {
    topics: [{ name: 'md', topicId: '00000000000000000000000000000000' }],
    allowAutoTopicCreation: false,
    includeClusterAuthorizedOperations: true,
    includeTopicAuthorizedOperations: true,
  });
  expect(opsCount(asked.topics[0].topicAuthorizedOperations)).toBe(8);
  expect(opsCount(asked.clusterAuthorizedOperations)).toBe(7);
  const notAsked = await client.request(3, 10, { ...byName('md'), includeClusterAuthorizedOperations: false });
  expect(notAsked.topics[0].topicAuthorizedOperations).toBe(OMITTED);
  expect(notAsked.clusterAuthorizedOperations).toBe(OMITTED);
  const missing = await client.request(3, 10, { ...byName('no-such-topic'), includeTopicAuthorizedOperations: true });
  expect(missing.topics[0]).toMatchObject({ errorCode: 3, topicAuthorizedOperations: OMITTED });

  const cluster = await client.request(60, 1, { includeClusterAuthorizedOperations: true, endpointType: 1 });
  expect(opsCount(cluster.clusterAuthorizedOperations)).toBe(7);
  expect((await client.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 })).clusterAuthorizedOperations).toBe(OMITTED);
});

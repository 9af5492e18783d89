// Internal topics as Kafka has them: asking Metadata for __consumer_offsets creates it the way
// the group coordinator does (offsets.topic.num.partitions, compact), and __transaction_state the
// way the transaction coordinator does (transaction.state.log.num.partitions, compact,
// transaction.state.log.segment.bytes); clients cannot write to them, and a user topic that
// merely starts with "__" is an ordinary topic.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

let broker: BrokerProcess;
let kafka: Kafka;

beforeAll(async () => {
  requireKcat();
  broker = await startBroker({
    overrides: { 'offsets.topic.num.partitions': 7, 'transaction.state.log.num.partitions': 5, 'transaction.state.log.segment.bytes': 1048576 },
  });
  kafka = new Kafka({ clientId: 'internal-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

test("Metadata auto-creation of __consumer_offsets makes the coordinator's topic", async () => {
  const md = JSON.parse((await kcat(['-b', broker.bootstrap, '-L', '-J', '-t', '__consumer_offsets'])).stdout);
  expect(md.topics[0].partitions).toHaveLength(7);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: '__consumer_offsets' }] });
    const policy = configs.resources[0].configEntries.find((e) => e.configName === 'cleanup.policy');
    expect(policy?.configValue).toBe('compact');
    const meta = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    expect(meta.topics[0].partitions).toHaveLength(7);
  } finally {
    await admin.disconnect();
  }
});

test("Metadata auto-creation of __transaction_state makes the transaction coordinator's topic", async () => {
  const md = JSON.parse((await kcat(['-b', broker.bootstrap, '-L', '-J', '-t', '__transaction_state'])).stdout);
  expect(md.topics[0].partitions).toHaveLength(5);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: '__transaction_state' }] });
    const entry = (name: string) => configs.resources[0].configEntries.find((e) => e.configName === name)?.configValue;
    expect(entry('cleanup.policy')).toBe('compact');
    expect(entry('segment.bytes')).toBe('1048576');
  } finally {
    await admin.disconnect();
  }
  const refused = await kcat(['-b', broker.bootstrap, '-P', '-t', '__transaction_state', '-p', '0', '-X', 'message.send.max.retries=0'], 'x\n', 30_000);
  expect(refused.stderr).toMatch(/invalid topic|Broker: Invalid topic|INVALID_TOPIC/i);
});

test('clients cannot produce to __consumer_offsets; a user "__" topic is ordinary', async () => {
  const refused = await kcat(['-b', broker.bootstrap, '-P', '-t', '__consumer_offsets', '-p', '0', '-X', 'message.send.max.retries=0'], 'x\n', 30_000);
  expect(refused.stderr).toMatch(/invalid topic|Broker: Invalid topic|INVALID_TOPIC/i);

  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: '__debezium-heartbeat.db', messages: [{ value: 'beat' }] });
  await producer.disconnect();
  const out = await kcat(['-b', broker.bootstrap, '-C', '-t', '__debezium-heartbeat.db', '-e', '-q', '-f', '%s\n']);
  expect(out.stdout.trim()).toBe('beat');
  const md = JSON.parse((await kcat(['-b', broker.bootstrap, '-L', '-J', '-t', '__debezium-heartbeat.db'])).stdout);
  expect(md.topics[0].partitions).toHaveLength(1);
});

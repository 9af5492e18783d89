// Replication throttles with Kafka's own tools against a 3-broker cluster on etcd (issue #18):
// `kafka-configs --entity-type brokers` sets, describes and deletes a dynamic broker config (per
// broker and as the cluster default); then a fourth broker joins and
// `kafka-reassign-partitions --execute --throttle` moves a partition of a few MB onto it. The
// tool sets leader/follower.replication.throttled.rate on every broker involved and the
// *.replication.throttled.replicas of the topic; the move takes at least what the throttle implies
// (loosely: Kafka's rate lets the first windows' worth through at once), completes with every
// record, and `--verify` removes every throttle config. `kafka-features` changes the finalized
// feature levels through one broker and another reports them.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { MetadataResponse } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { type EtcdServer, startEtcd } from './support/etcd-server.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool } from './support/kafka-tools.ts';
import { RawClient } from './support/raw-client.ts';
import { readPartition } from './support/requests.ts';

/** Bytes/s given to `--throttle`. */
const THROTTLE = 100_000;
/** Record bytes moved: 2 MB, ten times the burst a fresh throttle lets through beyond its first windows. */
const RECORDS = 200;
const RECORD_BYTES = 10_000;

let etcd: EtcdServer;
let libs: string;
let workDir: string;
const brokers = new Map<number, BrokerProcess>();
const dataDirs: string[] = [];

const overrides = (nodeId: number) => ({
  'node.id': nodeId,
  'sluice.metadata.etcd.endpoints': etcd.endpoint,
  'sluice.metadata.etcd.prefix': '/throttle',
  'broker.session.timeout.ms': 3000,
  // Small follower fetches, so the throttle (not one large fetch) decides the pace.
  'replica.fetch.max.bytes': 65536,
});

beforeAll(async () => {
  libs = kafkaToolsLibs();
  workDir = tempDataDir('sluice-throttle-');
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) {
    const b = await startBroker({ overrides: overrides(nodeId) });
    brokers.set(nodeId, b);
    dataDirs.push(b.dataDir);
  }
}, 120_000);

afterAll(async () => {
  for (const b of brokers.values()) await b.kill();
  await etcd?.stop();
  for (const dir of dataDirs) removeDir(dir);
  if (workDir) removeDir(workDir);
});

async function tool(mainClass: string, args: readonly string[], through = 1): Promise<string> {
  const r = await runKafkaTool(libs, mainClass, ['--bootstrap-server', brokers.get(through)!.bootstrap, ...args], { timeoutMs: 60_000 });
  expect(r.code, `${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function replicas(topic: string): Promise<{ leader: number; replicas: number[]; isr: number[] }> {
  const client = await RawClient.connect(brokers.get(1)!.port);
  try {
    const answer: MetadataResponse = await client.request(3, 12, {
      topics: [{ name: topic, topicId: '00000000000000000000000000000000' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const p = answer.topics[0].partitions[0];
    return { leader: p.leaderId, replicas: [...p.replicaNodes], isr: [...p.isrNodes].sort() };
  } finally {
    client.close();
  }
}

async function eventually<T>(check: () => Promise<T>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** The throttled rates broker `id` runs with from dynamic configs (its own or the default), by DescribeConfigs. */
async function dynamicRates(id: number): Promise<string[]> {
  const client = await RawClient.connect(brokers.get(id)!.port);
  try {
    const answer = await client.request(32, 4, {
      resources: [
        { resourceType: 4, resourceName: String(id), configurationKeys: ['leader.replication.throttled.rate', 'follower.replication.throttled.rate'] },
      ],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(answer.results[0].errorCode).toBe(0);
    // Sources 2 and 3: DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG.
    return answer.results[0].configs.filter((c: { configSource: number }) => c.configSource === 2 || c.configSource === 3).map((c: { name: string }) => c.name);
  } finally {
    client.close();
  }
}

const brokerConfigs = (id: string) =>
  tool(KAFKA_TOOL.configs, ['--entity-type', 'brokers', ...(id === '' ? ['--entity-default'] : ['--entity-name', id]), '--describe']);

test('kafka-features through one broker changes the finalized levels every broker reports (etcd)', async () => {
  await tool(KAFKA_TOOL.features, ['disable', '--feature', 'share.version'], 2);
  const described = await tool(KAFKA_TOOL.features, ['describe'], 3);
  expect(described).toMatch(/Feature: share\.version\s+SupportedMinVersion: 0\s+SupportedMaxVersion: 1\s+FinalizedVersionLevel: 0\s+Epoch: [1-9]/);
}, 60_000);

test('kafka-configs changes dynamic broker configs; kafka-reassign-partitions --throttle moves a partition no faster than the throttle, nothing lost', async () => {
  // kafka-configs: a per-broker value and a cluster default, described with Kafka's synonyms, then deleted.
  await tool(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-name', '2', '--alter', '--add-config', 'leader.replication.throttled.rate=12345']);
  await tool(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-default', '--alter', '--add-config', 'follower.replication.throttled.rate=777']);
  const described = await brokerConfigs('2');
  expect(described).toContain('Dynamic configs for broker 2 are:');
  expect(described).toContain(
    'leader.replication.throttled.rate=12345 sensitive=false synonyms={DYNAMIC_BROKER_CONFIG:leader.replication.throttled.rate=12345',
  );
  expect(await brokerConfigs('')).toContain(
    'follower.replication.throttled.rate=777 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:follower.replication.throttled.rate=777',
  );
  await tool(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-name', '2', '--alter', '--delete-config', 'leader.replication.throttled.rate']);
  await tool(KAFKA_TOOL.configs, ['--entity-type', 'brokers', '--entity-default', '--alter', '--delete-config', 'follower.replication.throttled.rate']);
  expect(await dynamicRates(2)).toEqual([]);

  const kafka = new Kafka({
    clientId: 'throttle-test',
    brokers: [...brokers.values()].map((b) => b.bootstrap),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'slow', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const values = Array.from({ length: RECORDS }, (_, i) => `${String(i).padStart(6, '0')}-${'x'.repeat(RECORD_BYTES - 7)}`);
  for (let i = 0; i < values.length; i += 20) {
    await producer.send({ topic: 'slow', acks: -1, messages: values.slice(i, i + 20).map((value) => ({ partition: 0, value })) });
  }
  await producer.disconnect();
  const before = await eventually(async () => {
    const r = await replicas('slow');
    expect(r.isr).toEqual([...r.replicas].sort());
    return r;
  });

  // A fourth broker joins; the leader of partition 0 is replaced by it (so it leads once in sync).
  const fourth = await startBroker({ overrides: overrides(4) });
  brokers.set(4, fourth);
  dataDirs.push(fourth.dataDir);
  const kept = before.replicas.find((id) => id !== before.leader)!;
  const target = [4, kept];
  const plan = join(workDir, 'plan.json');
  writeFileSync(plan, JSON.stringify({ version: 1, partitions: [{ topic: 'slow', partition: 0, replicas: target, log_dirs: ['any', 'any'] }] }));
  const executed = await tool(KAFKA_TOOL.reassignPartitions, ['--execute', '--throttle', String(THROTTLE), '--reassignment-json-file', plan]);
  expect(executed).toContain(`The inter-broker throttle limit was set to ${THROTTLE} B/s`);
  expect(executed).toContain('Successfully started partition reassignment');
  // The move began before the tool returned (it sets the throttles first): timing from here only understates it.
  const started = Date.now();
  // When broker 4 is in sync (polled by Metadata alongside the tool runs below, which take seconds each).
  const caughtUp = (async () => {
    for (;;) {
      if ((await replicas('slow')).isr.includes(4)) return Date.now();
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  // While it moves: the throttle configs are in place, on the new broker and on the topic.
  const whileMoving = await brokerConfigs('4');
  expect(whileMoving).toContain(`follower.replication.throttled.rate=${THROTTLE}`);
  expect(whileMoving).toContain(`leader.replication.throttled.rate=${THROTTLE}`);
  const topicConfigs = await tool(KAFKA_TOOL.configs, ['--entity-type', 'topics', '--entity-name', 'slow', '--describe']);
  expect(topicConfigs).toContain('follower.replication.throttled.replicas=0:4');
  expect(topicConfigs).toMatch(/leader\.replication\.throttled\.replicas=0:\d,0:\d/);

  let verified = '';
  await eventually(async () => {
    verified = await tool(KAFKA_TOOL.reassignPartitions, ['--verify', '--reassignment-json-file', plan]);
    expect(verified).toContain('Reassignment of partition slow-0 is completed');
  }, 60_000);
  const elapsedMs = (await caughtUp) - started;
  console.log(`throttled move of ${RECORDS * RECORD_BYTES} bytes at ${THROTTLE} B/s took ${elapsedMs} ms`);
  // 2 MB at 100 kB/s: Kafka's rate divides by at least 10 one-second windows, so about 1 MB goes
  // at once and the rest at the throttle (~10 s); unthrottled it takes well under a second. The
  // bound is loose (a loaded machine only makes it slower).
  const bytes = RECORDS * RECORD_BYTES;
  expect(elapsedMs).toBeGreaterThan(((bytes - 11 * THROTTLE) / THROTTLE) * 1000 * 0.6);

  // --verify removed every throttle: the topic's lists and the brokers' rates.
  expect(verified).toContain('Clearing broker-level throttles');
  expect(verified).toContain('Clearing topic-level throttles on topic slow');
  const topicAfter = await tool(KAFKA_TOOL.configs, ['--entity-type', 'topics', '--entity-name', 'slow', '--describe']);
  expect(topicAfter).not.toContain('replication.throttled.replicas=');
  for (const id of [1, 2, 3, 4]) expect(await dynamicRates(id)).toEqual([]);

  // Moved, in sync, and every record there in order on both replicas.
  await eventually(async () => expect(await replicas('slow')).toEqual({ leader: 4, replicas: target, isr: [...target].sort() }));
  const client = await RawClient.connect(fourth.port);
  expect((await readPartition(client, 'slow', 0)).records.map((r) => r.value)).toEqual(values);
  client.close();
  // The throttled bytes were counted on both sides, and the throttle held partitions back.
  const scrape = async (id: number) => (await fetch(brokers.get(id)!.metricsUrl!)).text();
  const follower = await scrape(4);
  const leader = await scrape(before.leader);
  expect(follower).toMatch(/sluice_replication_throttled_bytes_total\{side="follower"\} [1-9]/);
  expect(leader).toMatch(/sluice_replication_throttled_bytes_total\{side="leader"\} [1-9]/);
  const heldBack = (text: string, side: string) =>
    Number(new RegExp(`sluice_replication_throttled_partitions_held_back_total\\{side="${side}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  expect(heldBack(follower, 'follower') + heldBack(leader, 'leader')).toBeGreaterThan(0);
}, 120_000);

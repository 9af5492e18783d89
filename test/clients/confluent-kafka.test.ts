// confluent-kafka-python (PyPI, version in python/requirements.txt; librdkafka inside its wheel)
// against a real broker process. librdkafka >= 2.1 sends Metadata v9+ "all topics" requests with 3
// bytes past the schema (issue 12): every admin call, consumer and rebalance below depends on the
// broker serving them as Kafka does (packages/protocol README, "Bytes after a request body").
//
// - admin: list_topics (the snippet), create_topics with configs (and again: already
//   exists), describe_configs of the topic and the broker;
// - an idempotent producer with each codec (none, gzip, snappy, lz4, zstd), checked as stored;
// - a consumer group of 3 that reads everything once, commits, and resumes from its commits;
// - offset lookups: get_watermark_offsets, offsets_for_times, AdminClient.list_offsets.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type ClientCommand, consumedRecords, ensureConfluentPythonClient, offsetsByPartition, runClientOk, storedBatches } from './support.ts';

const PARTITIONS = 3;
const PER_CODEC = 200;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
// Several client processes per test, on a 2-core machine shared with the other suites.
const CLIENT_TEST_TIMEOUT_MS = 180_000;

let client: ClientCommand;
let broker: BrokerProcess;

beforeAll(async () => {
  client = ensureConfluentPythonClient();
  broker = await startBroker({ overrides: { 'num.partitions': PARTITIONS } });
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('confluent-kafka (librdkafka)', () => {
  test(
    'admin: list_topics returns the topics; create_topics, describe_configs',
    async () => {
      const topic = 'confluent-admin';
      const run = await runClientOk(client, ['admin', broker.bootstrap, topic, String(PARTITIONS)]);
      const [before, after] = run.events.filter((e) => e.event === 'topics');
      // The snippet: AdminClient.list_topics() answers instead of a transport failure.
      expect(before.brokers).toEqual([1]);
      expect(before.topics).not.toContain(topic);
      expect(run.events.find((e) => e.event === 'created')).toMatchObject({ topic });
      expect(run.events.find((e) => e.event === 'created-again')).toMatchObject({ error: 'TOPIC_ALREADY_EXISTS' });
      expect(after.topics).toContain(topic);
      expect(after.partitions[topic]).toBe(PARTITIONS);

      const configs = run.events.filter((e) => e.event === 'configs');
      const topicConfigs = configs.find((e) => e.type === 'TOPIC')!;
      expect(topicConfigs.name).toBe(topic);
      expect(topicConfigs.entries).toMatchObject({ 'retention.ms': '3600000', 'cleanup.policy': 'delete' }); // set, and the default
      const brokerConfigs = configs.find((e) => e.type === 'BROKER')!;
      expect(brokerConfigs.entries).toMatchObject({ 'num.partitions': String(PARTITIONS), 'node.id': '1' });

      // The all-topics Metadata requests carried librdkafka's 3 extra bytes: served, and counted.
      const metrics = await (await fetch(broker.metricsUrl!)).text();
      expect(Number(/^sluice_request_trailing_bytes_total\{api="Metadata"\} (\d+)$/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThan(0);
      expect(broker.output()).not.toMatch(/malformed frame/);
    },
    CLIENT_TEST_TIMEOUT_MS,
  );

  test(
    'idempotent producer with each codec; a group of 3 reads all once, commits, and resumes',
    async () => {
      const topic = 'confluent-topic'; // auto-created by the producer's Metadata request
      const expected: string[] = [];
      const acked = new Map<number, number[]>();
      for (const codec of CODECS) {
        const produced = await runClientOk(client, ['produce', broker.bootstrap, topic, String(PER_CODEC), codec, 'true', `-${codec}`]);
        const acks = produced.events.filter((e) => e.event === 'produced');
        expect(acks).toHaveLength(PER_CODEC);
        for (const a of acks) acked.set(a.partition, [...(acked.get(a.partition) ?? []), a.offset]);
        for (let i = 0; i < PER_CODEC; i++) expected.push(`key-${i}=value-${i}-${codec}`);
      }
      // The acks the producer got are the log's offsets: per partition 0..n-1 over all five runs.
      expect(acked.size).toBe(PARTITIONS);
      for (const offsets of acked.values()) expect([...offsets].sort((x, y) => x - y)).toEqual(offsets.map((_, i) => i));

      // As stored: every codec, every batch stamped with a producer id and sequences (idempotence).
      const batches = await storedBatches(broker.port, topic, PARTITIONS);
      expect(new Set(batches.map((b) => b.compression))).toEqual(new Set(CODECS));
      for (const b of batches) {
        expect(b.producerId).toBeGreaterThanOrEqual(0);
        expect(b.baseSequence).toBeGreaterThanOrEqual(0);
      }
      const total = PER_CODEC * CODECS.length;

      const first = await runClientOk(client, ['group', broker.bootstrap, topic, 'confluent-group', '3', String(total)]);
      const firstRecords = consumedRecords(first);
      expect(firstRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual([...expected].sort());
      for (const offsets of offsetsByPartition(firstRecords).values()) expect(offsets).toEqual(offsets.map((_, i) => i));
      // Every member ended up with one partition, and committed the end of it.
      const lastAssignment = new Map<number, number[]>();
      for (const e of first.events.filter((x) => x.event === 'assigned')) lastAssignment.set(e.member, e.partitions);
      expect([...lastAssignment.values()].flat().sort()).toEqual([0, 1, 2]);
      const commits = first.events.filter((e) => e.event === 'committed');
      expect(commits).toHaveLength(3);
      const ends = new Map([...offsetsByPartition(firstRecords)].map(([p, offsets]) => [p, offsets.length]));
      for (const c of commits) {
        for (const [p, offset] of Object.entries(c.offsets)) expect(offset).toBe(ends.get(Number(p)));
      }

      // Next round: the group starts where it committed.
      await runClientOk(client, ['produce', broker.bootstrap, topic, String(PER_CODEC), 'zstd', 'true', '-round2']);
      const second = await runClientOk(client, ['group', broker.bootstrap, topic, 'confluent-group', '3', String(PER_CODEC)]);
      const secondRecords = consumedRecords(second);
      expect(secondRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual(Array.from({ length: PER_CODEC }, (_, i) => `key-${i}=value-${i}-round2`).sort());
      for (const [p, offsets] of offsetsByPartition(secondRecords)) {
        expect(offsets).toEqual(offsets.map((_, i) => (ends.get(p) ?? 0) + i));
      }
      expect(broker.output()).not.toMatch(/malformed frame/);
    },
    CLIENT_TEST_TIMEOUT_MS,
  );

  test(
    'offset lookups: watermarks, offsets_for_times, list_offsets',
    async () => {
      const topic = 'confluent-offsets';
      const base = 1_700_000_000_000;
      const run = await runClientOk(client, ['offsets', broker.bootstrap, topic, '10', String(base)]);
      expect(run.events.find((e) => e.event === 'watermarks')).toMatchObject({ low: 0, high: 10 });
      const byTime = run.events.filter((e) => e.event === 'offsets_for_times').map((e) => [e.timestamp - base, e.offset, e.error]);
      // The first record at or after the timestamp; none (-1) past the last one.
      expect(byTime).toEqual([
        [3500, 4, null],
        [0, 0, null],
        [15_000, -1, null],
      ]);
      const listed = Object.fromEntries(run.events.filter((e) => e.event === 'list_offsets').map((e) => [e.spec, [e.offset, e.timestamp]]));
      expect(listed).toEqual({
        earliest: [0, -1],
        latest: [10, -1],
        max_timestamp: [9, base + 9000],
        for_timestamp: [6, base + 6000],
      });
    },
    CLIENT_TEST_TIMEOUT_MS,
  );
});

// The Java client (org.apache.kafka:kafka-clients, version in java/pom.xml) against a real broker
// process: AdminClient topics, configs and cluster; an idempotent producer (the default) with
// acks=all sending keyed records with every compression type; a KafkaConsumer group reading them
// all, committing, and a second run of the group resuming from the committed offsets.
// The client is built on first run (support.ts); a missing JDK or Maven fails with what to install.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from '../support/broker-process.ts';
import { type ClientCommand, consumedRecords, ensureJavaClient, offsetsByPartition, runClientOk, storedBatches } from './support.ts';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const PER_CODEC = 200;
const PARTITIONS = 3;

let java: ClientCommand;
let broker: BrokerProcess;
// Several client processes (JVMs) per test, on a 2-core machine shared with the other suites.
const CLIENT_TEST_TIMEOUT_MS = 180_000;

beforeAll(async () => {
  java = ensureJavaClient();
  broker = await startBroker({ overrides: { 'num.partitions': PARTITIONS } });
}, 600_000);

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('Java kafka-clients', () => {
  test(
    'AdminClient creates, lists, describes, describes configs and cluster, deletes a topic',
    async () => {
      const run = await runClientOk(java, ['admin', broker.bootstrap, 'java-admin', '4']);
      const byEvent = new Map(run.events.map((e) => [e.event, e]));
      expect(byEvent.get('created')).toEqual({ event: 'created', topic: 'java-admin' });
      // Creating it again fails with TOPIC_ALREADY_EXISTS, which the client maps to its exception.
      expect(byEvent.get('exists')).toEqual({ event: 'exists', error: 'TopicExistsException' });
      expect(byEvent.get('createdAgain')).toBeUndefined();
      expect(byEvent.get('listed')?.containsTopic).toBe(true);
      expect(byEvent.get('described')).toEqual({ event: 'described', topic: 'java-admin', partitions: 4, leaders: [1, 1, 1, 1], internal: false });
      expect(byEvent.get('configs')?.configs).toEqual({
        'cleanup.policy': { value: 'delete', source: 'DEFAULT_CONFIG' },
        'retention.ms': { value: '3600000', source: 'DYNAMIC_TOPIC_CONFIG' },
        'segment.bytes': { value: '1073741824', source: 'DEFAULT_CONFIG' },
      });
      const cluster = byEvent.get('cluster');
      expect(cluster?.nodes).toEqual([1]);
      expect(cluster?.controller).toBe(1);
      expect(cluster?.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(byEvent.get('deleted')?.containsTopic).toBe(false);
    },
    CLIENT_TEST_TIMEOUT_MS,
  );

  test(
    'idempotent producer, acks=all, every codec; a group reads all, commits, and resumes',
    async () => {
      const topic = 'java-codecs';
      const produced = await runClientOk(java, ['produce', broker.bootstrap, topic, String(PER_CODEC), CODECS.join(',')]);
      const perCodec = produced.events.filter((e) => e.event === 'produced');
      expect(perCodec.map((e) => [e.compression, e.count])).toEqual(CODECS.map((c) => [c, PER_CODEC]));
      for (const e of perCodec) expect(Object.keys(e.perPartition).length).toBeGreaterThan(1);

      // The log holds the batches as the producer built them: every codec, a producer id from
      // InitProducerId and sequence numbers (idempotence is on by default), nothing recompressed.
      const batches = await storedBatches(broker.port, topic, PARTITIONS);
      expect(new Set(batches.map((b) => b.compression))).toEqual(new Set(CODECS));
      for (const b of batches) {
        expect(b.producerId).toBeGreaterThanOrEqual(0);
        expect(b.baseSequence).toBeGreaterThanOrEqual(0);
      }
      expect(batches.reduce((n, b) => n + b.records.length, 0)).toBe(CODECS.length * PER_CODEC);

      const expected = CODECS.flatMap((c) => Array.from({ length: PER_CODEC }, (_, i) => `${c}-${i}=value-${c}-${i}`));
      const first = await runClientOk(java, ['consume', broker.bootstrap, topic, 'java-group', String(expected.length)]);
      const firstRecords = consumedRecords(first);
      expect(firstRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual([...expected].sort());
      for (const offsets of offsetsByPartition(firstRecords).values()) expect(offsets).toEqual(offsets.map((_, i) => i));
      expect(first.events.some((e) => e.event === 'committed')).toBe(true);

      // More records; the same group picks up exactly those, from the offsets it committed.
      await runClientOk(java, ['produce', broker.bootstrap, topic, String(PER_CODEC), 'zstd', 'true', '-round2']);
      const second = await runClientOk(java, ['consume', broker.bootstrap, topic, 'java-group', String(PER_CODEC)]);
      const secondRecords = consumedRecords(second);
      expect(secondRecords.map((r) => `${r.key}=${r.value}`).sort()).toEqual(
        Array.from({ length: PER_CODEC }, (_, i) => `zstd-${i}=value-zstd-${i}-round2`).sort(),
      );
      const firstEnd = new Map([...offsetsByPartition(firstRecords)].map(([p, offsets]) => [p, offsets.length]));
      for (const [p, offsets] of offsetsByPartition(secondRecords)) {
        expect(offsets).toEqual(offsets.map((_, i) => (firstEnd.get(p) ?? 0) + i));
      }
    },
    CLIENT_TEST_TIMEOUT_MS,
  );
});

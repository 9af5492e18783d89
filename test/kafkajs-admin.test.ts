// kafkajs 2.x (npm) against a real broker process: admin topics and configs (AlterConfigs, the
// only config-changing API kafkajs speaks), a gzip producer, auto-created topics; records read
// back with kcat in order per partition.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Admin, CompressionTypes, ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

let broker: BrokerProcess;
let kafka: Kafka;

beforeAll(async () => {
  requireKcat();
  broker = await startBroker();
  kafka = new Kafka({ clientId: 'sluice-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

describe('kafkajs admin', () => {
  test('creates, lists, describes and deletes topics', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] })).toBe(
        true,
      );
      // Creating it again is refused (kafkajs reports "already exists" as false, not an error).
      expect(await admin.createTopics({ topics: [{ topic: 'admin-a', numPartitions: 3 }] })).toBe(false);
      expect(await admin.listTopics()).toContain('admin-a');

      const metadata = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
      expect(metadata.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);

      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: 'admin-a' }] });
      const entries = new Map(configs.resources[0].configEntries.map((e) => [e.configName, e]));
      expect(entries.get('retention.ms')?.configValue).toBe('3600000');
      expect(entries.get('retention.ms')?.isDefault).toBe(false);
      expect(entries.get('segment.bytes')?.configValue).toBe('1073741824');
      expect(entries.get('cleanup.policy')?.configValue).toBe('delete');

      await admin.createPartitions({ topicPartitions: [{ topic: 'admin-a', count: 5 }] });
      const grown = await admin.fetchTopicMetadata({ topics: ['admin-a'] });
      expect(grown.topics[0].partitions).toHaveLength(5);

      await admin.deleteTopics({ topics: ['admin-a'] });
      expect(await admin.listTopics()).not.toContain('admin-a');
    } finally {
      await admin.disconnect();
    }
  });

  test('alterConfigs (AlterConfigs API): the entries become the whole override set; validateOnly and bad values change nothing', async () => {
    const admin = kafka.admin();
    await admin.connect();
    const topicConfigs = async (a: Admin) => {
      const described = await a.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'alter-me' }] });
      return new Map(described.resources[0].configEntries.map((e) => [e.configName, e]));
    };
    try {
      const created = await admin.createTopics({
        topics: [
          {
            topic: 'alter-me',
            numPartitions: 2,
            configEntries: [
              { name: 'retention.ms', value: '3600000' },
              { name: 'cleanup.policy', value: 'compact' },
            ],
          },
        ],
      });
      expect(created).toBe(true);

      const altered = await admin.alterConfigs({
        validateOnly: false,
        resources: [
          {
            type: ConfigResourceTypes.TOPIC,
            name: 'alter-me',
            configEntries: [
              { name: 'retention.ms', value: '60000' },
              { name: 'segment.ms', value: '600000' },
            ],
          },
        ],
      });
      expect(altered.resources).toEqual([{ errorCode: 0, errorMessage: null, resourceType: ConfigResourceTypes.TOPIC, resourceName: 'alter-me' }]);
      let entries = await topicConfigs(admin);
      expect(entries.get('retention.ms')).toMatchObject({ configValue: '60000', isDefault: false });
      expect(entries.get('segment.ms')).toMatchObject({ configValue: '600000', isDefault: false });
      // Left out of the new set: back to the broker default.
      expect(entries.get('cleanup.policy')).toMatchObject({ configValue: 'delete', isDefault: true });
      // Long.MAX_VALUE as Kafka prints it.
      expect(entries.get('flush.messages')?.configValue).toBe('9223372036854775807');
      expect(entries.get('retention.ms')?.configSynonyms[0]).toMatchObject({ configName: 'retention.ms', configValue: '60000' });

      // validateOnly: accepted, nothing changes.
      const checked = await admin.alterConfigs({
        validateOnly: true,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'alter-me', configEntries: [{ name: 'retention.ms', value: '1000' }] }],
      });
      expect(checked.resources[0].errorCode).toBe(0);
      // A bad value refuses the whole resource.
      await expect(
        admin.alterConfigs({
          validateOnly: false,
          resources: [
            {
              type: ConfigResourceTypes.TOPIC,
              name: 'alter-me',
              configEntries: [
                { name: 'retention.ms', value: '1000' },
                { name: 'min.cleanable.dirty.ratio', value: '2' },
              ],
            },
          ],
        }),
      ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
      // Broker configs are static in Sluice.
      await expect(
        admin.alterConfigs({
          validateOnly: false,
          resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configEntries: [{ name: 'log.retention.ms', value: '1000' }] }],
        }),
      ).rejects.toMatchObject({ type: 'INVALID_REQUEST' });
      entries = await topicConfigs(admin);
      expect(entries.get('retention.ms')?.configValue).toBe('60000');
      expect(entries.get('min.cleanable.dirty.ratio')).toMatchObject({ configValue: '0.5', isDefault: true });
    } finally {
      await admin.disconnect();
    }
  });

  test('gzip producer: records read back in order from several partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'gz', numPartitions: 4 }] });
    await admin.disconnect();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const sent: Array<{ key: string; value: string }> = [];
    for (let batch = 0; batch < 10; batch++) {
      const messages = Array.from({ length: 50 }, (_, i) => {
        const n = batch * 50 + i;
        return { key: `k${n % 16}`, value: `v${n}` };
      });
      sent.push(...messages);
      await producer.send({ topic: 'gz', compression: CompressionTypes.GZIP, acks: -1, messages });
    }
    await producer.disconnect();

    const out = await kcat(['-b', broker.bootstrap, '-C', '-t', 'gz', '-e', '-q', '-f', '%p|%o|%k|%s\n']);
    expect(out.code).toBe(0);
    const lines = out.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    expect(lines).toHaveLength(sent.length);
    const partitionsSeen = new Set(lines.map((l) => l[0]));
    expect(partitionsSeen.size).toBeGreaterThan(1);
    // Per key (one partition each), values come back in the order they were produced, and
    // offsets within a partition are 0..n-1 with no gap.
    const lastByKey = new Map<string, number>();
    const offsetsByPartition = new Map<string, number[]>();
    for (const [p, o, k, v] of lines) {
      const n = Number(v.slice(1));
      expect(n).toBeGreaterThan(lastByKey.get(k) ?? -1);
      lastByKey.set(k, n);
      offsetsByPartition.set(p, [...(offsetsByPartition.get(p) ?? []), Number(o)]);
    }
    for (const offsets of offsetsByPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    expect(new Set(lines.map((l) => l[3]))).toEqual(new Set(sent.map((m) => m.value)));
  });

  test('an auto-created topic works', async () => {
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({
      topic: 'auto-created',
      messages: [
        { key: 'a', value: 'hello' },
        { key: 'b', value: 'world' },
      ],
    });
    await producer.disconnect();
    const out = await kcat(['-b', broker.bootstrap, '-C', '-t', 'auto-created', '-e', '-q', '-f', '%s\n']);
    expect(out.stdout.trim().split('\n').sort()).toEqual(['hello', 'world']);
    const admin = kafka.admin();
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: ['auto-created'] });
    await admin.disconnect();
    expect(md.topics[0].partitions).toHaveLength(1); // num.partitions default
  });
});

// The embedded test broker (sluice/testing): what a user's test file gets from it, and how long
// start-to-first-request takes (printed; README.md states the figure).

import { existsSync } from 'node:fs';
import { Consumer, describeConfigs, ConfigResourceType, KafkaClient, Producer } from '@sluice/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from './testing.ts';

describe('startEmbeddedBroker', () => {
  let kafka: EmbeddedBroker;
  let startToFirstRequestMs: number;

  beforeAll(async () => {
    const started = performance.now();
    kafka = await startEmbeddedBroker({ topics: ['plain', { name: 'compacted', partitions: 3, config: { 'cleanup.policy': 'compact' } }] });
    const client = await KafkaClient.connect({ bootstrap: kafka.bootstrap });
    await client.metadata([]);
    startToFirstRequestMs = performance.now() - started;
    client.close();
    process.stdout.write(`embedded broker: start to first answered request (topics created) ${startToFirstRequestMs.toFixed(0)} ms\n`);
  });

  afterAll(() => kafka?.stop());

  it('listens on a free port of 127.0.0.1 with its data in a temp dir', () => {
    expect(kafka.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(kafka.bootstrap).not.toBe('127.0.0.1:9092');
    expect(existsSync(kafka.logDir)).toBe(true);
    expect(startToFirstRequestMs).toBeLessThan(10_000);
  });

  it('creates the named topics with their partitions and configs', async () => {
    const client = await KafkaClient.connect({ bootstrap: kafka.bootstrap });
    try {
      const meta = await client.metadata(['plain', 'compacted']);
      const partitions = Object.fromEntries([...meta.topics.values()].map((t) => [t.name, t.partitions.length]));
      expect(partitions).toEqual({ plain: 1, compacted: 3 });
      const [configs] = await describeConfigs(client, [{ type: ConfigResourceType.TOPIC, name: 'compacted' }]);
      expect(configs.configs.find((e) => e.name === 'cleanup.policy')?.value).toBe('compact');
    } finally {
      client.close();
    }
  });

  it('is a real broker: records produced are consumed back', async () => {
    await kafka.createTopics([{ name: 'later', partitions: 1 }]);
    const client = await KafkaClient.connect({ bootstrap: kafka.bootstrap });
    try {
      const producer = await Producer.create(client, 'later');
      for (const v of ['a', 'b', 'c']) await producer.send({ key: null, value: new TextEncoder().encode(v), headers: [] });
      await producer.flush();
      const consumer = await Consumer.create(client, { topic: 'later', start: { kind: 'earliest' }, resetPolicy: 'earliest' });
      const values: string[] = [];
      while (values.length < 3) for (const r of await consumer.poll()) values.push(new TextDecoder().decode(r.value!));
      await consumer.close();
      expect(values).toEqual(['a', 'b', 'c']);
    } finally {
      client.close();
    }
  });

  it('refuses a topic the broker refuses, naming it', async () => {
    await expect(kafka.createTopics([{ name: 'bad', config: { 'cleanup.policy': 'sometimes' } }])).rejects.toThrow(/bad: error \d+/);
  });

  it('runs several brokers side by side, and stop() removes the data', async () => {
    const other = await startEmbeddedBroker({ config: { 'num.partitions': 4 } });
    expect(other.bootstrap).not.toBe(kafka.bootstrap);
    await other.stop();
    expect(existsSync(other.logDir)).toBe(false);
  });
});

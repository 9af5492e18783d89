// kcat (librdkafka) against a real broker process: metadata, 100k keyed records per codec,
// consumed back with identical content and per-partition order.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

let broker: BrokerProcess;

beforeAll(async () => {
  requireKcat();
  broker = await startBroker({ overrides: { 'num.partitions': 3 } });
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

const RECORDS = 100_000;

describe('kcat', () => {
  test('metadata listing', async () => {
    await kcat(['-b', broker.bootstrap, '-P', '-t', 'meta-topic'], 'x\n');
    const out = await kcat(['-b', broker.bootstrap, '-L', '-J']);
    expect(out.code).toBe(0);
    const md = JSON.parse(out.stdout);
    expect(md.brokers).toEqual([{ id: 1, name: broker.bootstrap }]);
    const topic = md.topics.find((t: { topic: string }) => t.topic === 'meta-topic');
    expect(topic.partitions).toHaveLength(3);
    expect(topic.partitions.every((p: { leader: number }) => p.leader === 1)).toBe(true);
  });

  test.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'])('100k keyed records with %s round-trip in order', async (codec) => {
    const topic = `codec-${codec}`;
    const lines: string[] = [];
    for (let i = 0; i < RECORDS; i++) lines.push(`key${i % 97}:value-${i}-${'x'.repeat(i % 50)}`);
    const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', topic, '-K:', '-z', codec, '-X', 'linger.ms=5'], lines.join('\n') + '\n', 180_000);
    expect(produced.stderr).not.toMatch(/error/i);
    expect(produced.code).toBe(0);

    const consumed = await kcat(['-b', broker.bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%p %o %k:%s\n'], undefined, 180_000);
    expect(consumed.code).toBe(0);
    const out = consumed.stdout.split('\n').filter((l) => l !== '');
    expect(out).toHaveLength(RECORDS);
    const byPartition = new Map<string, Array<{ offset: number; record: string }>>();
    for (const line of out) {
      const [p, o, record] = line.split(' ', 3);
      const list = byPartition.get(p) ?? [];
      list.push({ offset: Number(o), record });
      byPartition.set(p, list);
    }
    expect(byPartition.size).toBe(3);
    // Per partition: offsets 0..n-1, and records in production order.
    const expectedOrder = new Map(lines.map((l, i) => [l, i]));
    for (const list of byPartition.values()) {
      expect(list.map((r) => r.offset)).toEqual(list.map((_, i) => i));
      const positions = list.map((r) => expectedOrder.get(r.record));
      expect(positions.every((pos) => pos !== undefined)).toBe(true);
      for (let i = 1; i < positions.length; i++) expect(positions[i]!).toBeGreaterThan(positions[i - 1]!);
    }
    expect(new Set(out.map((l) => l.split(' ', 3)[2]))).toEqual(new Set(lines));
  });
});

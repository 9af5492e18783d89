// Log compaction against a real broker process: a keyed topic with cleanup.policy=compact, small
// segments and min.cleanable.dirty.ratio=0.01, many overwrites produced with kcat (plain and
// gzip), shrinks to the latest value per key, each at its original offset (read back with kcat);
// tombstones stay until delete.retention.ms has passed and a later clean, then are gone; a
// kafkajs consumer reads the compacted log to its end; and snappy, lz4 and zstd batches are
// recompressed in a form librdkafka reads.

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { eventually } from './support/eventually.ts';
import { kcat, requireKcat } from './support/kcat.ts';

const TOPIC = 'compacted';
const CODECS_TOPIC = 'compacted-codecs';
const KEYS = 50;
const RECORDS = 6000;
const TOMBSTONED = ['key-1', 'key-2', 'key-3'];
const DELETE_RETENTION_MS = 3000;
const SEGMENT_MS = 500;

let broker: BrokerProcess;
let kafka: Kafka;

interface Line {
  offset: number;
  key: string;
  value: string | null;
}

beforeAll(async () => {
  requireKcat();
  broker = await startBroker({ overrides: { 'log.cleaner.backoff.ms': 200, 'num.partitions': 1 } });
  kafka = new Kafka({ clientId: 'sluice-compaction-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
  const admin = kafka.admin();
  await admin.connect();
  const configEntries = [
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'segment.bytes', value: '8192' },
    { name: 'segment.ms', value: String(SEGMENT_MS) },
    { name: 'min.cleanable.dirty.ratio', value: '0.01' },
    { name: 'delete.retention.ms', value: String(DELETE_RETENTION_MS) },
  ];
  try {
    await admin.createTopics({
      topics: [
        { topic: TOPIC, numPartitions: 1, configEntries },
        { topic: CODECS_TOPIC, numPartitions: 1, configEntries },
      ],
    });
  } finally {
    await admin.disconnect();
  }
});

afterAll(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function produce(lines: string[], codec: string, topic = TOPIC): Promise<void> {
  // batch.size keeps each batch well below segment.bytes (an append larger than a segment is
  // refused with RECORD_LIST_TOO_LARGE, as by Kafka).
  const out = await kcat(
    ['-b', broker.bootstrap, '-P', '-t', topic, '-p', '0', '-K:', '-Z', '-z', codec, '-X', 'linger.ms=5', '-X', 'batch.size=4096'],
    lines.join('\n') + '\n',
  );
  expect(out.stderr).not.toMatch(/error/i);
  expect(out.code).toBe(0);
}

async function consumeAll(topic = TOPIC): Promise<Line[]> {
  const out = await kcat(['-b', broker.bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-Z', '-f', '%o\t%k\t%s\n']);
  expect(out.code).toBe(0);
  return out.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, key, value] = l.split('\t');
      return { offset: Number(offset), key, value: value === 'NULL' ? null : value };
    });
}

function logBytes(): number {
  const dir = join(broker.dataDir, `${TOPIC}-0`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
}

/** Polls until `check` passes (it throws while not), for at most `ms`. */
const WAIT = { timeoutMs: 30_000, intervalMs: 250 };

/** Every line is the record produced at its offset; offsets strictly increase. */
function expectOriginal(lines: Line[], produced: Line[]): void {
  for (let i = 1; i < lines.length; i++) expect(lines[i].offset).toBeGreaterThan(lines[i - 1].offset);
  for (const line of lines) expect(line).toEqual(produced[line.offset]);
}

/** For each key its last record, in offset order (what a fully compacted log holds). */
function latestPerKey(records: Line[]): Line[] {
  const last = new Map<string, Line>();
  for (const r of records) last.set(r.key, r);
  return [...last.values()].sort((a, b) => a.offset - b.offset);
}

describe('log compaction', () => {
  const produced: Line[] = [];

  test('many overwrites shrink to the latest value per key at the original offsets', async () => {
    // Two halves: uncompressed, then gzip (cleaned batches are recompressed with their codec).
    for (const [half, codec] of [
      [0, 'none'],
      [1, 'gzip'],
    ] as const) {
      const lines: string[] = [];
      for (let i = 0; i < RECORDS / 2; i++) {
        const n = half * (RECORDS / 2) + i;
        const key = `key-${(n * 7) % KEYS}`;
        const value = `value-${n}-${'x'.repeat(n % 30)}`;
        lines.push(`${key}:${value}`);
        produced.push({ offset: n, key, value });
      }
      await produce(lines, codec);
    }
    // Tombstones for a few keys (kcat -Z sends an empty value as null).
    await produce(
      TOMBSTONED.map((k) => `${k}:`),
      'none',
    );
    for (const key of TOMBSTONED) produced.push({ offset: produced.length, key, value: null });
    const before = await consumeAll();
    expectOriginal(before, produced);
    const producedBytes = produced.reduce((n, l) => n + l.key.length + (l.value?.length ?? 0), 0);

    // After segment.ms the next append rolls, so everything above is in closed segments.
    await sleep(SEGMENT_MS + 100);
    await produce(['marker:one'], 'none');
    produced.push({ offset: produced.length, key: 'marker', value: 'one' });

    const expected = latestPerKey(produced);
    const compacted = await eventually(async () => {
      const lines = await consumeAll();
      expect(lines).toEqual(expected);
      return lines;
    }, WAIT);
    expectOriginal(compacted, produced);
    // The tombstones survive this first clean (their delete horizon is in the future).
    for (const key of TOMBSTONED) expect(compacted.find((l) => l.key === key)?.value).toBeNull();
    expect(compacted.length).toBe(KEYS + 1);
    expect(logBytes()).toBeLessThan(producedBytes / 10);
  });

  test('a kafkajs consumer reads the compacted log to its end', async () => {
    const consumer = kafka.consumer({ groupId: 'compaction-reader', sessionTimeout: 10_000 });
    await consumer.connect();
    const seen: Line[] = [];
    const end = produced.length - 1;
    try {
      await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
      const done = new Promise<void>((resolve) => {
        void consumer.run({
          eachMessage: async ({ message }) => {
            const offset = Number(message.offset);
            seen.push({ offset, key: message.key!.toString(), value: message.value === null ? null : message.value.toString() });
            if (offset >= end) resolve();
          },
        });
      });
      await Promise.race([done, sleep(30_000).then(() => Promise.reject(new Error(`kafkajs stopped at ${seen.at(-1)?.offset}`)))]);
    } finally {
      await consumer.disconnect();
    }
    expectOriginal(seen, produced);
    expect(seen.map((l) => l.key)).toEqual(latestPerKey(produced).map((l) => l.key));
  });

  test('snappy, lz4 and zstd batches are cleaned and read back by librdkafka', async () => {
    const records: Line[] = [];
    for (const codec of ['snappy', 'lz4', 'zstd']) {
      const lines: string[] = [];
      for (let i = 0; i < 1500; i++) {
        const n = records.length;
        const key = `${codec}-${i % 10}`;
        const value = `v${n}-${'y'.repeat(n % 20)}`;
        lines.push(`${key}:${value}`);
        records.push({ offset: n, key, value });
      }
      await produce(lines, codec, CODECS_TOPIC);
    }
    await sleep(SEGMENT_MS + 100);
    await produce(['marker:one'], 'none', CODECS_TOPIC);
    records.push({ offset: records.length, key: 'marker', value: 'one' });
    const lines = await eventually(async () => {
      const now = await consumeAll(CODECS_TOPIC);
      expect(now).toEqual(latestPerKey(records));
      return now;
    }, WAIT);
    expectOriginal(lines, records);
  });

  test('tombstones are gone once delete.retention.ms has passed and a later clean ran', async () => {
    await sleep(DELETE_RETENTION_MS + 500);
    // A later clean needs something dirty: one more record, rolled like the first.
    await produce(['marker:two'], 'none');
    produced.push({ offset: produced.length, key: 'marker', value: 'two' });
    await sleep(SEGMENT_MS + 100);
    await produce(['marker:three'], 'none');
    produced.push({ offset: produced.length, key: 'marker', value: 'three' });

    const lines = await eventually(async () => {
      const now = await consumeAll();
      for (const key of TOMBSTONED) expect(now.some((l) => l.key === key)).toBe(false);
      return now;
    }, WAIT);
    expectOriginal(lines, produced);
    const expected = latestPerKey(produced).filter((l) => l.value !== null || !TOMBSTONED.includes(l.key));
    // `marker` stays twice until the next clean: `three` sits in the active segment.
    expect(lines.filter((l) => l.key !== 'marker')).toEqual(expected.filter((l) => l.key !== 'marker'));
    expect(lines.at(-1)).toEqual(produced.at(-1));
  });
});

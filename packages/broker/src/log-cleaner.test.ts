// LogCleaner over a real TopicRegistry: a pass compacts every compacted partition (and only
// those), applies retention for compact,delete topics, and the cleaner checkpoint survives a
// restart of the registry.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, parseRecordBatches } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerConfig } from './config.ts';
import { cleanerSettings, LogCleaner } from './log-cleaner.ts';
import { silentLogger } from './logger.ts';
import type { Partition } from './partition.ts';
import { TopicRegistry } from './topics.ts';

let dir: string;
let config: BrokerConfig;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cleaner-'));
  config = new BrokerConfig(Object.entries({ 'log.dirs': dir, 'log.cleaner.backoff.ms': '60000' }));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const encoder = new TextEncoder();

function produce(partition: Partition, key: string, value: string | null, timestamp: number): void {
  const batch = buildRecordBatch({
    records: [{ key: encoder.encode(key), value: value === null ? null : encoder.encode(value), timestamp }],
    compression: 'gzip',
  });
  partition.append(batch, timestamp);
}

/** key -> [offset, value] of every record the partition serves. */
function records(partition: Partition): Array<[number, string, string | null]> {
  const out: Array<[number, string, string | null]> = [];
  let offset = partition.log.logStartOffset;
  while (offset < partition.log.logEndOffset) {
    const bytes = partition.log.readBytes(offset, 1 << 20);
    if (bytes === null) break;
    for (const batch of parseRecordBatches(bytes)) {
      for (const r of batch.records) {
        if (r.offset >= offset) out.push([r.offset, new TextDecoder().decode(r.key!), r.value === null ? null : new TextDecoder().decode(r.value)]);
      }
      offset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
  }
  return out;
}

const COMPACT = new Map<string, string | number | boolean | string[] | null>([
  ['cleanup.policy', ['compact']],
  ['segment.bytes', 512],
  ['min.cleanable.dirty.ratio', 0.01],
]);

describe('LogCleaner', () => {
  it('compacts compacted topics only, one partition at a time', async () => {
    const topics = new TopicRegistry(config, silentLogger);
    topics.load();
    const compacted = topics.create('state', 2, COMPACT);
    const plain = topics.create('events', 1, new Map([['segment.bytes', 512]]));
    for (let i = 0; i < 60; i++) {
      for (const p of [...compacted.partitions, ...plain.partitions]) produce(p, `k${i % 4}`, `v${i}`, 1000 + i);
    }
    const plainBefore = records(plain.partitions[0]);
    const cleaner = new LogCleaner(topics, config, silentLogger);
    await cleaner.pass(() => 10_000);
    for (const p of compacted.partitions) {
      const kept = records(p);
      expect(kept.length).toBeLessThan(60);
      expect(p.log.firstDirtyOffset).toBeGreaterThan(0);
      // The last value of each key is still there, at its offset.
      for (let k = 0; k < 4; k++) {
        const last = kept.filter((r) => r[1] === `k${k}`).at(-1)!;
        expect(last).toEqual([56 + k, `k${k}`, `v${56 + k}`]);
      }
    }
    expect(records(plain.partitions[0])).toEqual(plainBefore);
    await cleaner.stop();

    // The cleaner checkpoint carries the first dirty offsets across a restart.
    const firstDirty = compacted.partitions.map((p) => p.log.firstDirtyOffset);
    topics.close();
    const checkpoint = readFileSync(join(dir, 'cleaner-offset-checkpoint'), 'utf8');
    expect(checkpoint).toBe(`0\n2\nstate 0 ${firstDirty[0]}\nstate 1 ${firstDirty[1]}\n`);
    const reopened = new TopicRegistry(config, silentLogger);
    reopened.load();
    expect(reopened.get('state')!.partitions.map((p) => p.log.firstDirtyOffset)).toEqual(firstDirty);
    reopened.close();
  });

  it('runs retention for compact,delete topics but not time retention for compact ones', async () => {
    const topics = new TopicRegistry(config, silentLogger);
    topics.load();
    const both = topics.create('both', 1, new Map([...COMPACT, ['cleanup.policy', ['compact', 'delete']], ['retention.ms', 1000]]));
    const compactOnly = topics.create('only', 1, new Map([...COMPACT, ['retention.ms', 1000]]));
    for (let i = 0; i < 40; i++) {
      produce(both.partitions[0], `k${i}`, 'v', 1000);
      produce(compactOnly.partitions[0], `k${i}`, 'v', 1000);
    }
    const cleaner = new LogCleaner(topics, config, silentLogger);
    await cleaner.pass(() => 1_000_000);
    expect(both.partitions[0].log.logStartOffset).toBeGreaterThan(0);
    expect(compactOnly.partitions[0].log.logStartOffset).toBe(0);
    expect(records(compactOnly.partitions[0])).toHaveLength(40);
    topics.close();
  });

  it('takes its settings from the broker config', () => {
    const custom = new BrokerConfig(Object.entries({ 'log.dirs': dir, 'sluice.log.cleaner.dedupe.buffer.bytes': '1048576' }));
    expect(cleanerSettings(custom).dedupeBufferBytes).toBe(1 << 20);
    expect(() => new BrokerConfig([['log.cleaner.backoff.ms', '-1']])).toThrow(/log.cleaner.backoff.ms/);
  });
});

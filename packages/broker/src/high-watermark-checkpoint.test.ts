// replication-offset-checkpoint: Kafka's text format in each log dir, the replicated partitions
// only, read back by partition dir name; an unreadable file is ignored with a warning.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch } from '@sluice/protocol';
import { afterEach, expect, test } from 'vitest';
import { BrokerConfig } from './config.ts';
import { readHighWatermarks, REPLICATION_OFFSET_CHECKPOINT, writeHighWatermarks } from './high-watermark-checkpoint.ts';
import { type Logger, silentLogger } from './logger.ts';
import type { Partition } from './partition.ts';
import { TopicRegistry } from './topics.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hw-checkpoint-'));
  dirs.push(dir);
  return dir;
};

/** What the checkpoint reads of a partition. */
const partition = (topic: string, index: number, logDir: string, highWatermark: number, isReplicated = true) =>
  ({ topic: { name: topic }, index, logDir, highWatermark, isReplicated }) as unknown as Partition;

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger = { warn: (_fields: unknown, message: string) => warnings.push(message) } as unknown as Logger;
  return { logger, warnings };
}

test("each log dir gets its replicated partitions' high watermarks in Kafka's format, and they read back", () => {
  const [a, b] = [fresh(), fresh()];
  writeHighWatermarks(
    [a, b],
    [partition('orders', 0, a, 120), partition('orders', 1, b, 7), partition('events', 2, a, 0), partition('local', 0, a, 99, false)],
  );
  expect(readFileSync(join(a, REPLICATION_OFFSET_CHECKPOINT), 'utf8')).toBe('0\n2\norders 0 120\nevents 2 0\n');
  expect(readFileSync(join(b, REPLICATION_OFFSET_CHECKPOINT), 'utf8')).toBe('0\n1\norders 1 7\n');
  const { logger, warnings } = recordingLogger();
  expect(readHighWatermarks([a, b], logger)).toEqual(
    new Map([
      ['orders-0', 120],
      ['events-2', 0],
      ['orders-1', 7],
    ]),
  );
  expect(warnings).toEqual([]);
  // A later write replaces the whole file (a partition that left is gone from it).
  writeHighWatermarks([a, b], [partition('orders', 0, a, 130)]);
  expect(readHighWatermarks([a, b], logger)).toEqual(new Map([['orders-0', 130]]));
});

test('a missing file is empty; a corrupt one is skipped with a warning, the other dirs still count', () => {
  const [a, b] = [fresh(), fresh()];
  const { logger, warnings } = recordingLogger();
  expect(readHighWatermarks([a], logger)).toEqual(new Map());
  writeHighWatermarks([b], [partition('orders', 1, b, 7)]);
  for (const corrupt of ['0\n2\norders 0 5\n', '1\n0\n', 'orders 0 5\n', '0\n1\norders zero 5\n']) {
    writeFileSync(join(a, REPLICATION_OFFSET_CHECKPOINT), corrupt);
    expect(readHighWatermarks([a, b], logger)).toEqual(new Map([['orders-1', 7]]));
  }
  expect(warnings).toHaveLength(4);
  expect(warnings[0]).toMatch(/replication-offset-checkpoint is unreadable/);
});

test('a clean shutdown checkpoints replicated high watermarks; the next run restarts from them; a single node writes none', () => {
  const dir = fresh();
  const config = new BrokerConfig([['log.dirs', dir]]);
  const batch = () => buildRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: 1 }] });
  // A single node: no replicated partition, no file.
  const single = new TopicRegistry(config, silentLogger);
  single.load();
  const p = single.create('t', 1, new Map()).partitions[0];
  for (let i = 0; i < 5; i++) p.append(batch(), Date.now());
  single.close();
  expect(existsSync(join(dir, REPLICATION_OFFSET_CHECKPOINT))).toBe(false);
  // Cluster mode: the ISR has committed 3 of the 5 records when the broker stops.
  const first = new TopicRegistry(config, silentLogger);
  first.load();
  const replicated = first.get('t')!.partitions[0];
  replicated.setReplicated();
  replicated.advanceHighWatermark(3);
  first.close();
  expect(readFileSync(join(dir, REPLICATION_OFFSET_CHECKPOINT), 'utf8')).toBe('0\n1\nt 0 3\n');
  const second = new TopicRegistry(config, silentLogger);
  second.load();
  const restarted = second.get('t')!.partitions[0];
  restarted.setReplicated();
  expect(restarted.highWatermark).toBe(3); // not the log end (5), not the log start (0)
  second.close();
});

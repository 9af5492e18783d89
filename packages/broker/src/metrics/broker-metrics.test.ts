// BrokerMetrics over real partition logs and a real group coordinator: what a scrape shows.

import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlushStats, WriterStats } from '@sluice/native';
import { buildRecordBatch } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerConfig } from '../config.ts';
import { consumerHarness, TestMember } from '../testing/consumer-group-harness.ts';
import { harness } from '../testing/group-harness.ts';
import { silentLogger } from '../logger.ts';
import { TopicRegistry } from '../topics.ts';
import { BrokerMetrics } from './broker-metrics.ts';

/** Sample value of `name{labels}` in a text exposition (labels in any order), or undefined. */
function sampleValue(text: string, name: string, labels: Record<string, string | number> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (have.size !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => have.get(k) === String(v))) return Number(m[3]);
  }
  return undefined;
}

const WRITER: WriterStats = {
  sendfileBytes: 1000,
  sendfileSyscalls: 3,
  spliceBytes: 0,
  spliceSyscalls: 0,
  copyBytes: 0,
  copySyscalls: 0,
  plainBytes: 200,
  plainSyscalls: 4,
  sendsInline: 5,
  sendsQueued: 2,
  wouldBlock: 1,
  continuations: 1,
  queuedBytes: 77,
  connections: 2,
  errors: 0,
  truncatedRanges: 0,
};
const FLUSH: FlushStats = { count: 3, failures: 1, sumSeconds: 0.012, buckets: [1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] };

let dir: string;
let topics: TopicRegistry;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-metrics-'));
  const config = new BrokerConfig([
    ['log.dirs', dir],
    ['sluice.log.preallocate.step.bytes', '4096'],
    ['log.segment.bytes', '1024'],
  ]);
  topics = new TopicRegistry(config, silentLogger);
  topics.load();
});

afterEach(() => {
  topics.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('BrokerMetrics', () => {
  it('shows partition state, group lag, native counters and counted events in one scrape', async () => {
    const topic = topics.create('orders', 2, new Map());
    const batch = () => buildRecordBatch({ records: Array.from({ length: 10 }, (_, i) => ({ key: null, value: `v${i}`.padEnd(80, '.') })) });
    for (let i = 0; i < 5; i++) topic.partitions[0].append(batch(), Date.now());
    const h = harness();
    expect(
      await h.coordinator.commitOffsets({
        groupId: 'billing',
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1,
        apiVersion: 8,
        offsets: [{ topic: 'orders', partition: 0, offset: 20, leaderEpoch: -1, metadata: null }],
      }),
    ).toEqual([0]);

    const metrics = new BrokerMetrics({ appendMode: 'mmap' });
    metrics.attach({ topics, groups: h.coordinator, writerStats: () => WRITER, flushStats: () => FLUSH });
    metrics.broker.requestCompleted(0, 9, 0.01, 0.3, 0.02);
    metrics.broker.responseReady(0, { responses: [{ name: 'orders', partitionResponses: [{ index: 7, errorCode: 3 }] }] });
    metrics.broker.produced('orders', 4100, 50);
    metrics.dataPath.appended(4100, 0.02);
    const text = await metrics.scrape();
    const p0 = { topic: 'orders', partition: 0 };

    expect(sampleValue(text, 'sluice_log_end_offset', p0)).toBe(50);
    expect(sampleValue(text, 'sluice_log_high_watermark', p0)).toBe(50);
    expect(sampleValue(text, 'sluice_log_start_offset', p0)).toBe(0);
    expect(sampleValue(text, 'sluice_log_segments', p0)).toBe(topic.partitions[0].log.segmentCount);
    expect(sampleValue(text, 'sluice_log_segments', p0)).toBeGreaterThan(1); // 1 KiB segments
    expect(sampleValue(text, 'sluice_log_size_bytes', p0)).toBe(topic.partitions[0].log.sizeBytes);
    expect(sampleValue(text, 'sluice_log_end_offset', { topic: 'orders', partition: 1 })).toBe(0);
    expect(sampleValue(text, 'sluice_log_offline_partitions')).toBe(0);

    expect(sampleValue(text, 'sluice_group_committed_offset', { group: 'billing', ...p0 })).toBe(20);
    expect(sampleValue(text, 'sluice_group_lag', { group: 'billing', ...p0 })).toBe(30);
    expect(sampleValue(text, 'sluice_group_state', { group: 'billing', state: 'Empty' })).toBe(1);
    expect(sampleValue(text, 'sluice_group_state', { group: 'billing', state: 'Stable' })).toBe(0);
    expect(sampleValue(text, 'sluice_group_members', { group: 'billing' })).toBe(0);

    expect(sampleValue(text, 'sluice_transfer_bytes_total', { mode: 'sendfile' })).toBe(1000);
    expect(sampleValue(text, 'sluice_transfer_bytes_total', { mode: 'splice' })).toBe(0);
    expect(sampleValue(text, 'sluice_transfer_bytes_total', { mode: 'copy' })).toBe(0);
    expect(sampleValue(text, 'sluice_transfer_syscalls_total', { mode: 'sendfile' })).toBe(3);
    expect(sampleValue(text, 'sluice_writer_continuations_total')).toBe(1);
    expect(sampleValue(text, 'sluice_pending_output_bytes')).toBe(77);
    expect(sampleValue(text, 'sluice_log_flush_duration_seconds_count')).toBe(3);
    expect(sampleValue(text, 'sluice_log_flush_duration_seconds_bucket', { le: '0.0001' })).toBe(1);
    expect(sampleValue(text, 'sluice_log_flush_duration_seconds_bucket', { le: '0.001' })).toBe(3);
    expect(sampleValue(text, 'sluice_log_flush_failures_total')).toBe(1);

    expect(sampleValue(text, 'sluice_requests_total', { api: 'Produce', version: 9 })).toBe(1);
    expect(sampleValue(text, 'sluice_request_local_time_seconds_bucket', { api: 'Produce', le: '0.0005' })).toBe(1);
    expect(sampleValue(text, 'sluice_request_local_time_seconds_bucket', { api: 'Produce', le: '0.00025' })).toBe(0);
    expect(sampleValue(text, 'sluice_errors_total', { api: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' })).toBe(1);
    expect(sampleValue(text, 'sluice_topic_bytes_in_total', { topic: 'orders' })).toBe(4100);
    expect(sampleValue(text, 'sluice_topic_messages_in_total', { topic: 'orders' })).toBe(50);
    expect(sampleValue(text, 'sluice_append_bytes_total', { mode: 'mmap' })).toBe(4100);
    expect(sampleValue(text, 'sluice_append_bytes_total', { mode: 'pwrite' })).toBe(0);
    expect(sampleValue(text, 'sluice_append_duration_seconds_count', { mode: 'pwrite' })).toBe(0);
    // Node's defaults, standard names.
    expect(sampleValue(text, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    h.coordinator.close();
  });

  it('forgets a deleted topic: its partitions and its traffic counters', async () => {
    const topic = topics.create('doomed', 1, new Map());
    const metrics = new BrokerMetrics({ appendMode: 'pwrite' });
    const h = harness();
    metrics.attach({ topics, groups: h.coordinator, writerStats: () => WRITER, flushStats: () => FLUSH });
    metrics.broker.produced('doomed', 10, 1);
    metrics.broker.fetched('doomed', 10);
    let text = await metrics.scrape();
    expect(sampleValue(text, 'sluice_topic_bytes_out_total', { topic: 'doomed' })).toBe(10);
    expect(sampleValue(text, 'sluice_log_end_offset', { topic: 'doomed', partition: 0 })).toBe(0);
    topics.delete(topic);
    text = await metrics.scrape();
    expect(text).not.toContain('topic="doomed"');
    h.coordinator.close();
  });

  it('counts partitions a storage failure took offline', async () => {
    const topic = topics.create('fragile', 3, new Map());
    const metrics = new BrokerMetrics({ appendMode: 'pwrite' });
    const h = harness();
    metrics.attach({ topics, groups: h.coordinator, writerStats: () => WRITER, flushStats: () => FLUSH });
    expect(sampleValue(await metrics.scrape(), 'sluice_log_offline_partitions')).toBe(0);
    topic.partitions[1].markOffline(new Error('EIO: fsync failed'));
    topic.partitions[2].markOffline(new Error('EIO: write failed'));
    expect(sampleValue(await metrics.scrape(), 'sluice_log_offline_partitions')).toBe(2);
    h.coordinator.close();
  });

  it("shows each log dir's filesystem capacity and available bytes; a dir that is gone has none", async () => {
    const metrics = new BrokerMetrics({ appendMode: 'mmap' });
    const h = harness();
    const gone = join(dir, 'no-such-dir');
    metrics.attach({ topics, groups: h.coordinator, writerStats: () => WRITER, flushStats: () => FLUSH, logDirs: [dir, gone] });
    const text = await metrics.scrape();
    const fs = statfsSync(dir);
    expect(sampleValue(text, 'sluice_log_dir_capacity_bytes', { dir })).toBe(fs.blocks * fs.bsize);
    const available = sampleValue(text, 'sluice_log_dir_available_bytes', { dir })!;
    // Other processes write to this filesystem too: within a few MiB of what statfs says now.
    expect(Math.abs(available - statfsSync(dir).bavail * fs.bsize)).toBeLessThan(64 << 20);
    expect(available).toBeLessThanOrEqual(fs.blocks * fs.bsize);
    expect(text).not.toContain(`dir="${gone}"`);
    h.coordinator.close();
  });

  it('scrapes before the broker attached its parts (events only)', async () => {
    const metrics = new BrokerMetrics({ appendMode: 'mmap' });
    metrics.broker.connectionOpened();
    const text = await metrics.scrape();
    expect(sampleValue(text, 'sluice_connections_active')).toBe(1);
    expect(sampleValue(text, 'sluice_connections_accepted_total')).toBe(1);
    expect(sampleValue(text, 'sluice_transfer_bytes_total', { mode: 'copy' })).toBe(0);
  });

  it('counts groups by type and state, and KIP-848 epoch bumps, fencings and reconciliations', async () => {
    const h = consumerHarness();
    h.topics.create('t', 2);
    const a = new TestMember(h, 'kip848', 'a');
    const b = new TestMember(h, 'kip848', 'b');
    await a.join();
    await b.join();
    for (let i = 0; i < 3; i++) {
      await a.heartbeat();
      await b.heartbeat();
    }
    // b stops heartbeating and is fenced after the session timeout.
    for (let t = 0; t < 50_000; t += 5000) {
      h.clock.advance(5000);
      await a.heartbeat();
    }
    const metrics = new BrokerMetrics({ appendMode: 'mmap' });
    metrics.attach({ topics, groups: h.coordinator, writerStats: () => WRITER, flushStats: () => FLUSH });
    const text = await metrics.scrape();
    expect(sampleValue(text, 'sluice_groups', { type: 'consumer', state: 'Stable' })).toBe(1);
    expect(sampleValue(text, 'sluice_groups', { type: 'consumer', state: 'Reconciling' })).toBe(0);
    expect(sampleValue(text, 'sluice_groups', { type: 'classic', state: 'Stable' })).toBe(0);
    expect(sampleValue(text, 'sluice_group_state', { group: 'kip848', state: 'Stable' })).toBe(1);
    expect(sampleValue(text, 'sluice_group_members', { group: 'kip848' })).toBe(1);
    // Epochs: a joins (1), b joins (2), b fenced (3).
    expect(sampleValue(text, 'sluice_consumer_group_epoch_bumps_total')).toBe(3);
    expect(sampleValue(text, 'sluice_consumer_group_fenced_members_total')).toBe(1);
    expect(sampleValue(text, 'sluice_consumer_group_reconciliations_total')).toBeGreaterThanOrEqual(2);
    expect(sampleValue(text, 'sluice_consumer_group_reconciliation_seconds_total')).toBeGreaterThanOrEqual(0);
  });
});

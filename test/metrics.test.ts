// Prometheus metrics of a real broker process, scraped over HTTP after real clients ran:
// - bytes in equals the record batch bytes kcat produced (Kafka's BytesInPerSec counts record
//   batch bytes as the producer sent them), read back independently from the segment file;
//   messages in equals the records produced;
// - what consumers fetched is counted per topic and, below that, by the transfer mode that sent
//   it: sendfile bytes > 0 in sendfile mode and 0 in copy mode, and the other way round;
// - request counts, latency histograms and error codes move with the requests;
// - a kafkajs group's lag reaches 0 once it has consumed and committed everything.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecordBatch } from '@sluice/protocol';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { RawClient } from './support/raw-client.ts';

/** The value of `name{labels}` in a text exposition (labels in any order), or undefined. */
function sample(text: string, name: string, labels: Record<string, string | number> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (have.size !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => have.get(k) === String(v))) return Number(m[3]);
  }
  return undefined;
}

/** Sum over every series of `name` whose labels include `labels`. */
function sum(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) total += Number(m[3]);
  }
  return total;
}

async function scrape(broker: BrokerProcess): Promise<string> {
  expect(broker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(broker.metricsUrl!);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/**
 * The record batches stored in a partition directory, walked from the segment files (offset 8
 * bytes, batch length 4 bytes, ... records count at byte 57; a zero length is the preallocated
 * tail): their total size and record count. The broker stores batches exactly as the producer
 * sent them (only baseOffset and the leader epoch are rewritten in place), so this is what the
 * producer sent.
 */
function storedBatches(partitionDir: string): { bytes: number; records: number; batches: number } {
  let bytes = 0;
  let records = 0;
  let batches = 0;
  for (const name of readdirSync(partitionDir)
    .filter((f) => f.endsWith('.log'))
    .sort()) {
    const data = readFileSync(join(partitionDir, name));
    let pos = 0;
    while (pos + 61 <= data.length) {
      const length = data.readInt32BE(pos + 8);
      if (length <= 0) break;
      records += data.readInt32BE(pos + 57);
      bytes += 12 + length;
      batches++;
      pos += 12 + length;
    }
  }
  return { bytes, records, batches };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const RECORDS = 4000;
const lines = Array.from({ length: RECORDS }, (_, i) => `metric-record-${i}-${'x'.repeat(i % 200)}`);

describe.each([
  { mode: 'sendfile', other: 'copy' },
  { mode: 'copy', other: 'sendfile' },
] as const)('a broker in $mode mode', ({ mode, other }) => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    requireKcat();
    broker = await startBroker({ overrides: { 'sluice.transfer.mode': mode } });
  });

  afterAll(async () => {
    await broker?.stop();
    if (broker !== undefined) removeDir(broker.dataDir);
  });

  test('counts produced and fetched bytes by topic and by transfer mode', async () => {
    const before = await scrape(broker);
    // Every mode's series exists from the start, at 0.
    for (const m of ['sendfile', 'splice', 'copy']) expect(sample(before, 'sluice_transfer_bytes_total', { mode: m })).toBe(0);
    for (const m of ['mmap', 'pwrite']) expect(sample(before, 'sluice_append_bytes_total', { mode: m })).toBe(0);

    const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', 'metered'], lines.join('\n') + '\n');
    expect(produced.code, produced.stderr).toBe(0);
    const stored = storedBatches(join(broker.dataDir, 'metered-0'));
    expect(stored.records).toBe(RECORDS);
    expect(stored.batches).toBeGreaterThan(0);

    const afterProduce = await scrape(broker);
    expect(sample(afterProduce, 'sluice_topic_bytes_in_total', { topic: 'metered' })).toBe(stored.bytes);
    expect(sample(afterProduce, 'sluice_topic_messages_in_total', { topic: 'metered' })).toBe(RECORDS);
    expect(sample(afterProduce, 'sluice_append_bytes_total', { mode: 'pwrite' })).toBe(stored.bytes);
    expect(sample(afterProduce, 'sluice_append_duration_seconds_count', { mode: 'pwrite' })).toBe(
      sum(afterProduce, 'sluice_requests_total', { api: 'Produce' }),
    );
    expect(sample(afterProduce, 'sluice_log_end_offset', { topic: 'metered', partition: 0 })).toBe(RECORDS);
    expect(sample(afterProduce, 'sluice_log_size_bytes', { topic: 'metered', partition: 0 })).toBeGreaterThanOrEqual(stored.bytes);
    expect(sample(afterProduce, 'sluice_topic_bytes_out_total', { topic: 'metered' }) ?? 0).toBe(0);

    const consumed = await kcat(['-b', broker.bootstrap, '-C', '-t', 'metered', '-e', '-q', '-f', '%s\n']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout.split('\n').slice(0, -1)).toEqual(lines);

    const text = await scrape(broker);
    const bytesOut = sample(text, 'sluice_topic_bytes_out_total', { topic: 'metered' })!;
    expect(bytesOut).toBeGreaterThanOrEqual(stored.bytes); // every batch went out at least once
    // Only this topic was fetched, so what left the files by this broker's mode is exactly it.
    expect(sample(text, 'sluice_transfer_bytes_total', { mode })).toBe(bytesOut);
    expect(sample(text, 'sluice_transfer_syscalls_total', { mode })).toBeGreaterThan(0);
    expect(sample(text, 'sluice_transfer_bytes_total', { mode: other })).toBe(0);
    expect(sample(text, 'sluice_transfer_bytes_total', { mode: 'splice' })).toBe(0);
    expect(sample(text, 'sluice_send_buffer_bytes_total')).toBeGreaterThan(0);

    // Requests: counted once written, each with one observation per latency phase.
    const fetches = sum(text, 'sluice_requests_total', { api: 'Fetch' });
    expect(fetches).toBeGreaterThan(0);
    for (const phase of ['sluice_request_queue_time_seconds', 'sluice_request_local_time_seconds', 'sluice_response_send_time_seconds']) {
      expect(sample(text, `${phase}_count`, { api: 'Fetch' })).toBe(fetches);
      expect(sample(text, `${phase}_bucket`, { api: 'Fetch', le: '+Inf' })).toBe(fetches);
    }
    expect(sum(text, 'sluice_requests_total', { api: 'Metadata' })).toBeGreaterThan(0);
    expect(sample(text, 'sluice_connections_accepted_total')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'sluice_pending_output_bytes')).toBe(0);
  });

  test('counts error codes in responses, by API and error name', async () => {
    const client = await RawClient.connect(broker.port);
    try {
      const records = buildRecordBatch({ records: [{ key: null, value: 'nowhere' }] });
      const before = await scrape(broker);
      const response = await client.request(0, 9, {
        transactionalId: null,
        acks: 1,
        timeoutMs: 10_000,
        topicData: [{ name: 'metered', partitionData: [{ index: 7, records }] }],
      });
      expect(response.responses[0].partitionResponses[0].errorCode).toBe(3);
      const after = await waitFor('the produce to be counted', async () => {
        const text = await scrape(broker);
        return sample(text, 'sluice_requests_total', { api: 'Produce', version: 9 }) === 1 ? text : undefined;
      });
      const errors = (text: string) => sample(text, 'sluice_errors_total', { api: 'Produce', error: 'UNKNOWN_TOPIC_OR_PARTITION' }) ?? 0;
      expect(errors(after) - errors(before)).toBe(1);
    } finally {
      client.close();
    }
  });

  test.runIf(mode === 'sendfile')('a group that consumed and committed everything has lag 0', async () => {
    const kafka = new Kafka({
      clientId: 'metrics-test',
      brokers: [broker.bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 8, initialRetryTime: 100 },
    });
    const consumer = kafka.consumer({ groupId: 'metered-readers', sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    let seen = 0;
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: ['metered'], fromBeginning: true });
      await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void seen++ });
      const labels = { group: 'metered-readers', topic: 'metered', partition: 0 };
      const text = await waitFor('the group to commit the log end', async () => {
        const t = await scrape(broker);
        return sample(t, 'sluice_group_lag', labels) === 0 ? t : undefined;
      });
      expect(seen).toBeGreaterThanOrEqual(RECORDS);
      expect(sample(text, 'sluice_group_committed_offset', labels)).toBe(RECORDS);
      expect(sample(text, 'sluice_group_state', { group: 'metered-readers', state: 'Stable' })).toBe(1);
      expect(sample(text, 'sluice_group_members', { group: 'metered-readers' })).toBe(1);
      expect(sum(text, 'sluice_requests_total', { api: 'OffsetCommit' })).toBeGreaterThan(0);
    } finally {
      await consumer.disconnect();
    }
  });
});

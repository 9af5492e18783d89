// A consumer reading a topic whose pages were dropped from the page cache must not stall a tail
// consumer (issue 21 §2): its ranges are found cold by the writer's residency probe and warmed by
// the cold-read threads while the tail consumer keeps getting each record as it is produced. The
// cold consumer gets every record. Pages are dropped the way the benchmark drops them: fsync the
// segment files, then `dd iflag=nocache count=0` (posix_fadvise DONTNEED on the whole file).

import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecordBatch } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

const COLD_BATCHES = 48;
const RECORDS_PER_BATCH = 15;
const RECORD_BYTES = 64 * 1024; // 960 KiB batches (under max.message.bytes): 45 MiB of cold data
let broker: BrokerProcess;
let admin: RawClient;

function fetchRequest(topic: string, offset: number, maxWaitMs: number, partitionMaxBytes: number) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 8 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

/** Record batches in a fetched record set: [base offset, record count, first timestamp] each. */
function batches(records: Uint8Array): Array<[number, number, number]> {
  const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const out: Array<[number, number, number]> = [];
  for (let at = 0; at + 61 <= records.byteLength; ) {
    const length = view.getInt32(at + 8);
    if (at + 12 + length > records.byteLength) break; // a partial batch at the end
    out.push([Number(view.getBigInt64(at)), view.getInt32(at + 57), Number(view.getBigInt64(at + 27))]);
    at += 12 + length;
  }
  return out;
}

async function produce(client: RawClient, topic: string, count: number, valueBytes: number): Promise<void> {
  const value = Buffer.alloc(valueBytes, 3);
  const records = buildRecordBatch({
    records: Array.from({ length: count }, () => ({ key: null, value, headers: [], timestamp: Date.now() })),
    compression: 'none',
  });
  const produced = await client.request(0, 7, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  });
  expect(produced.responses[0].partitionResponses[0].errorCode).toBe(0);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(broker.metricsUrl!)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

beforeAll(async () => {
  broker = await startBroker({ overrides: { 'sluice.writer.threads': 1 } });
  admin = await RawClient.connect(broker.port);
  const created = await admin.request(19, 5, {
    topics: ['hot', 'cold'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
    timeoutMs: 5000,
    validateOnly: false,
  });
  expect(created.topics.map((t: { errorCode: number }) => t.errorCode)).toEqual([0, 0]);
  for (let i = 0; i < COLD_BATCHES; i++) await produce(admin, 'cold', RECORDS_PER_BATCH, RECORD_BYTES);
  // Drop the cold topic's pages: written back first (DONTNEED keeps dirty pages).
  const dir = join(broker.dataDir, 'cold-0');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.log') || f.endsWith('.index'))
    .map((f) => join(dir, f));
  execFileSync('sync', files);
  for (const file of files) execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}, 60_000);

afterAll(async () => {
  admin?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

test('a tail consumer keeps getting records while another reads a cold topic, which gets every record', async () => {
  const tail = await RawClient.connect(broker.port);
  const cold = await RawClient.connect(broker.port);
  const producer = await RawClient.connect(broker.port);
  const deferredBefore = await metric('sluice_writer_cold_ranges_deferred_total');

  // Tail consumer: long-polls the hot topic at its end; latency = receipt - produce timestamp.
  let coldDone = false;
  const latencies: number[] = [];
  let tailOffset = 0;
  const tailLoop = (async () => {
    while (!coldDone || latencies.length < 20) {
      const answer = await tail.request(1, 11, fetchRequest('hot', tailOffset, 500, 1 << 20));
      const now = Date.now();
      for (const [base, count, timestamp] of batches(answer.responses[0].partitions[0].records)) {
        for (let i = 0; i < count; i++) latencies.push(now - timestamp);
        tailOffset = base + count;
      }
    }
  })();
  let producing = true;
  const produceLoop = (async () => {
    while (producing) {
      await produce(producer, 'hot', 1, 100);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();

  // Cold consumer: reads the whole cold topic from offset 0, 1 MiB per fetch.
  let offset = 0;
  let records = 0;
  const started = Date.now();
  while (offset < COLD_BATCHES * RECORDS_PER_BATCH) {
    const answer = await cold.request(1, 11, fetchRequest('cold', offset, 0, 1 << 20));
    const found = batches(answer.responses[0].partitions[0].records);
    expect(found.length).toBeGreaterThan(0);
    for (const [base, count] of found) {
      expect(base).toBe(offset);
      records += count;
      offset = base + count;
    }
  }
  const coldMs = Date.now() - started;
  const tailDuringCold = latencies.length;
  coldDone = true;
  await tailLoop;
  producing = false;
  await produceLoop;
  for (const c of [tail, cold, producer]) c.close();

  expect(records).toBe(COLD_BATCHES * RECORDS_PER_BATCH);
  // The cold path ran: ranges were found cold and warmed off the writer thread.
  expect((await metric('sluice_writer_cold_ranges_deferred_total')) - deferredBefore).toBeGreaterThan(0);
  expect(await metric('sluice_writer_cold_bytes_warmed_total')).toBeGreaterThan(0);
  // The tail consumer was served throughout (one record produced every ~5 ms), and promptly.
  expect(tailDuringCold, `tail records during a ${coldMs} ms cold read`).toBeGreaterThan(0);
  const sorted = [...latencies].sort((a, b) => a - b);
  expect(sorted[Math.floor(sorted.length * 0.99)], `tail latencies ${sorted.slice(-5).join(', ')} ms`).toBeLessThan(1000);
}, 60_000);

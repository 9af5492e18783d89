// A compacted topic replicates with its offset gaps. An RF=3 cleanup.policy=compact topic takes
// many overwrites; the leader's cleaner leaves the latest record per key at its original offset
// (gaps between them). A follower then loses its copy (stopped, partition dir wiped, restarted
// with its own cleaner off, so its log is exactly what it replicated): it fetches the cleaned
// log from the leader, catches up and rejoins the ISR in its new broker epoch (read from etcd:
// Metadata's ISR may still name its previous run, which no controller may elect). The other two
// brokers die; it leads, and serves the very offsets, keys and values the old leader had.
// Likewise a wiped follower of a log whose start DeleteRecords moved (60) fetches from the
// leader's log start and takes it as its own.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildRecordBatch, parseRecordBatches } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { createTopic, partitionViews, TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';
import { fetchRequest, produceRaw } from './support/requests.ts';

const TOPIC = 'compacted-rf3';
const KEYS = 20;
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);

beforeAll(async () => {
  cluster = await TestCluster.start({ prefix: '/compacted', overrides: { 'broker.session.timeout.ms': 6000, 'log.cleaner.backoff.ms': 200 } });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Partition 0 of `topic` as `broker` sees it. */
async function partitionZero(broker: BrokerProcess, topic = TOPIC) {
  return (await partitionViews(broker, topic))[0]!;
}

const WAIT = { timeoutMs: 30_000, intervalMs: 150 };

/**
 * An acks=all produce to partition 0 of a topic just created through broker 1, whose view has it:
 * the leader's may not yet (UNKNOWN_TOPIC_OR_PARTITION, nothing appended), so that answer is
 * retried, as a Kafka producer retries it. Returns the first other error code (0: written).
 */
async function produceToNewTopic(client: RawClient, topic: string, batch: Uint8Array): Promise<number> {
  const answer = await eventually(async () => {
    const outcome = await produceRaw(client, topic, 0, batch, -1);
    expect(outcome.errorCode).not.toBe(3);
    return outcome;
  }, WAIT);
  return answer.errorCode;
}

/** Every record up to the high watermark as `offset key=value`. */
async function records(broker: BrokerProcess): Promise<string[]> {
  const client = await RawClient.connect(broker.port);
  const out: string[] = [];
  try {
    let offset = 0;
    for (;;) {
      const response = await client.request(1, 11, fetchRequest(TOPIC, 0, offset));
      const answer = response.responses[0].partitions[0];
      expect(answer.errorCode).toBe(0);
      const hw = Number(answer.highWatermark);
      for (const batch of parseRecordBatches(answer.records ?? new Uint8Array(0), { allowTruncatedTail: true })) {
        for (const r of batch.records) {
          if (r.offset >= offset) out.push(`${r.offset} ${Buffer.from(r.key ?? []).toString()}=${Buffer.from(r.value ?? []).toString()}`);
        }
        offset = Math.max(offset, Number(batch.baseOffset) + batch.lastOffsetDelta + 1);
      }
      if (offset >= hw) return out;
    }
  } finally {
    client.close();
  }
}

test('a wiped follower replicates a cleaned compacted log with identical offsets, keys and values', async () => {
  const configs = { 'cleanup.policy': 'compact', 'segment.bytes': '4096', 'min.cleanable.dirty.ratio': '0.01', 'min.insync.replicas': '2' };
  const created = await createTopic(broker(1), { name: TOPIC, partitions: 1, replicationFactor: 3, configs });
  expect(created.errorCode).toBe(0);
  const { leader } = await eventually(async () => {
    const p = await partitionZero(broker(1));
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  }, WAIT);

  // 1200 records in batches of 5, acks=all: overwrites of 20 keys, and every 50th record a key
  // written once (it survives cleaning, with gaps around it).
  const client = await RawClient.connect(broker(leader).port);
  for (let n = 0; n < 1200; n += 5) {
    const batch = buildRecordBatch({
      records: [0, 1, 2, 3, 4].map((i) => ({ key: (n + i) % 50 === 0 ? `once-${n + i}` : `key-${(n + i) % KEYS}`, value: `v${n + i}-${'x'.repeat(40)}` })),
    });
    expect(await produceToNewTopic(client, TOPIC, batch)).toBe(0);
  }
  client.close();
  // The leader's cleaner compacts everything below its active segment, pass after pass, until
  // two reads a second apart agree: then the offsets have gaps.
  const before = await eventually(async () => {
    const first = await records(broker(leader));
    expect(first.length).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await records(broker(leader));
    expect(second).toEqual(first);
    return second;
  }, WAIT);
  const offsets = before.map((line) => Number(line.split(' ')[0]));
  expect(offsets.some((o, i) => i > 0 && o !== offsets[i - 1]! + 1)).toBe(true);

  // A follower loses its copy and replicates the cleaned log from scratch.
  const wipedId = [1, 2, 3].find((id) => id !== leader)!;
  const wiped = broker(wipedId);
  await cluster.kill(wipedId);
  rmSync(join(wiped.dataDir, `${TOPIC}-0`), { recursive: true, force: true });
  const restarted = await cluster.restart(wipedId, { 'log.cleaner.enable': false });
  await eventually(async () => expect((await partitionZero(restarted)).isr).toEqual([1, 2, 3]), WAIT);
  await eventually(async () => expect(await cluster.inSyncInCurrentEpoch(TOPIC, 0, wipedId)).toBe(true), WAIT);
  expect(restarted.output()).not.toMatch(/cannot mirror the leader/);

  // The others die: the wiped-and-replicated broker is the only ISR member left and leads.
  for (const id of [1, 2, 3].filter((id) => id !== wipedId)) await cluster.kill(id);
  await eventually(async () => expect((await partitionZero(restarted)).leader).toBe(wipedId), WAIT);
  await eventually(async () => expect(await records(restarted)).toEqual(before), WAIT);
}, 180_000);

test("a wiped follower of a log trimmed by DeleteRecords fetches from the leader's log start and keeps it", async () => {
  // Every broker is back (the first test killed two): restart those that are down.
  for (const id of [1, 2, 3]) if (!cluster.isLive(id)) await cluster.restart(id);
  expect((await createTopic(broker(1), { name: 'trimmed', partitions: 1, replicationFactor: 3 })).errorCode).toBe(0);
  const state = (b: BrokerProcess) => partitionZero(b, 'trimmed');
  const { leader } = await eventually(async () => {
    const p = await state(broker(1));
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  }, WAIT);
  const client = await RawClient.connect(broker(leader).port);
  for (let i = 0; i < 10; i++) {
    const batch = buildRecordBatch({ records: Array.from({ length: 10 }, (_, j) => ({ key: null, value: `t${i * 10 + j}` })) });
    expect(await produceToNewTopic(client, 'trimmed', batch)).toBe(0);
  }
  const deleted = await client.request(21, 2, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 60 }] }], timeoutMs: 10_000 });
  expect(deleted.topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 60 });
  client.close();

  const wipedId = [1, 2, 3].find((id) => id !== leader)!;
  const wiped = broker(wipedId);
  await cluster.kill(wipedId);
  rmSync(join(wiped.dataDir, 'trimmed-0'), { recursive: true, force: true });
  const restarted = await cluster.restart(wipedId);
  await eventually(async () => expect((await state(restarted)).isr).toEqual([1, 2, 3]), WAIT);
  await eventually(async () => expect(await cluster.inSyncInCurrentEpoch('trimmed', 0, wipedId)).toBe(true), WAIT);
  for (const id of [1, 2, 3].filter((id) => id !== wipedId)) await cluster.kill(id);
  await eventually(async () => expect((await state(restarted)).leader).toBe(wipedId), WAIT);
  const c = await RawClient.connect(restarted.port);
  try {
    const listed = await c.request(2, 5, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2 }] }],
    });
    expect(Number(listed.topics[0].partitions[0].offset)).toBe(60);
    const read = await eventually(async () => {
      const response = await c.request(1, 11, fetchRequest('trimmed', 0, 60));
      const p = response.responses[0].partitions[0];
      expect(p.errorCode).toBe(0);
      return p;
    }, WAIT);
    const offsets: number[] = [];
    for (const batch of parseRecordBatches(read.records ?? new Uint8Array(0))) for (const r of batch.records) offsets.push(r.offset);
    expect(offsets.filter((o) => o >= 60)).toEqual(Array.from({ length: 40 }, (_, i) => 60 + i));
  } finally {
    c.close();
  }
}, 180_000);

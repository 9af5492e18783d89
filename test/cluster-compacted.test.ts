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
import { buildRecordBatch, type MetadataResponse, parseRecordBatches } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { type EtcdServer, startEtcd } from './support/etcd-server.ts';
import { RawClient } from './support/raw-client.ts';
import { fetchRequest, produceRaw } from './support/requests.ts';

const TOPIC = 'compacted-rf3';
const KEYS = 20;
const PREFIX = '/compacted';
let etcd: EtcdServer;
const brokers = new Map<number, BrokerProcess>();
const dataDirs: string[] = [];
const overrides = (nodeId: number, extra: Record<string, string | number | boolean> = {}) => ({
  'node.id': nodeId,
  'sluice.metadata.etcd.endpoints': etcd.endpoint,
  'sluice.metadata.etcd.prefix': PREFIX,
  'broker.session.timeout.ms': 6000,
  'log.cleaner.backoff.ms': 200,
  ...extra,
});

beforeAll(async () => {
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) {
    const b = await startBroker({ overrides: overrides(nodeId) });
    brokers.set(nodeId, b);
    dataDirs.push(b.dataDir);
  }
}, 90_000);

afterAll(async () => {
  for (const b of brokers.values()) await b.kill();
  await etcd?.stop();
  for (const dir of dataDirs) removeDir(dir);
});

async function partitionZero(broker: BrokerProcess) {
  const client = await RawClient.connect(broker.port);
  try {
    const answer: MetadataResponse = await client.request(3, 12, {
      topics: [{ name: TOPIC, topicId: '00000000000000000000000000000000' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const p = answer.topics[0].partitions[0];
    return { errorCode: p.errorCode, leader: p.leaderId, isr: [...p.isrNodes].sort() };
  } finally {
    client.close();
  }
}

async function eventually<T>(check: () => Promise<T>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

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
  });
  return answer.errorCode;
}

/** One etcd key through the v3 JSON gateway: its value and create revision, or null. */
async function etcdGet(key: string): Promise<{ value: string; createRevision: number } | null> {
  const response = await fetch(`${etcd.endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64') }) });
  const kv = ((await response.json()) as { kvs?: Array<{ value: string; create_revision: string }> }).kvs?.[0];
  return kv === undefined ? null : { value: Buffer.from(kv.value, 'base64').toString(), createRevision: Number(kv.create_revision) };
}

/**
 * Whether the cluster's record of partition 0 of `topic` has `nodeId` in its ISR in the broker
 * epoch of its current registration. Metadata's ISR names node ids only: right after a restart
 * it can still list the previous run's entry (the controller has not yet removed it), and a
 * broker in sync only in an epoch it no longer has cannot be elected.
 */
async function inSyncInCurrentEpoch(topic: string, nodeId: number): Promise<boolean> {
  const registration = await etcdGet(`${PREFIX}/brokers/${nodeId}`);
  const partition = await etcdGet(`${PREFIX}/partitions/${topic}/0`);
  if (registration === null || partition === null) return false;
  const { isr } = JSON.parse(partition.value) as { isr: Array<{ id: number; brokerEpoch: number }> };
  return isr.some((m) => m.id === nodeId && m.brokerEpoch === registration.createRevision);
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
  const admin = await RawClient.connect(brokers.get(1)!.port);
  const configs = { 'cleanup.policy': 'compact', 'segment.bytes': '4096', 'min.cleanable.dirty.ratio': '0.01', 'min.insync.replicas': '2' };
  const created = await admin.request(19, 7, {
    topics: [
      { name: TOPIC, numPartitions: 1, replicationFactor: 3, assignments: [], configs: Object.entries(configs).map(([name, value]) => ({ name, value })) },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  admin.close();
  expect(created.topics[0].errorCode).toBe(0);
  const { leader } = await eventually(async () => {
    const p = await partitionZero(brokers.get(1)!);
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  });

  // 1200 records in batches of 5, acks=all: overwrites of 20 keys, and every 50th record a key
  // written once (it survives cleaning, with gaps around it).
  const client = await RawClient.connect(brokers.get(leader)!.port);
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
    const first = await records(brokers.get(leader)!);
    expect(first.length).toBeLessThan(200);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await records(brokers.get(leader)!);
    expect(second).toEqual(first);
    return second;
  });
  const offsets = before.map((line) => Number(line.split(' ')[0]));
  expect(offsets.some((o, i) => i > 0 && o !== offsets[i - 1]! + 1)).toBe(true);

  // A follower loses its copy and replicates the cleaned log from scratch.
  const wipedId = [1, 2, 3].find((id) => id !== leader)!;
  const wiped = brokers.get(wipedId)!;
  await wiped.kill();
  rmSync(join(wiped.dataDir, `${TOPIC}-0`), { recursive: true, force: true });
  const restarted = await startBroker({ dataDir: wiped.dataDir, port: wiped.port, overrides: overrides(wipedId, { 'log.cleaner.enable': false }) });
  brokers.set(wipedId, restarted);
  await eventually(async () => expect((await partitionZero(restarted)).isr).toEqual([1, 2, 3]));
  await eventually(async () => expect(await inSyncInCurrentEpoch(TOPIC, wipedId)).toBe(true));
  expect(restarted.output()).not.toMatch(/cannot mirror the leader/);

  // The others die: the wiped-and-replicated broker is the only ISR member left and leads.
  for (const id of [1, 2, 3].filter((id) => id !== wipedId)) await brokers.get(id)!.kill();
  await eventually(async () => expect((await partitionZero(restarted)).leader).toBe(wipedId));
  await eventually(async () => expect(await records(restarted)).toEqual(before));
}, 180_000);

test("a wiped follower of a log trimmed by DeleteRecords fetches from the leader's log start and keeps it", async () => {
  // Every broker is back (the first test killed two): restart those that are down.
  for (const id of [1, 2, 3]) {
    const b = brokers.get(id)!;
    if (b.proc.exitCode !== null || b.proc.signalCode !== null)
      brokers.set(id, await startBroker({ dataDir: b.dataDir, port: b.port, overrides: overrides(id) }));
  }
  const admin = await RawClient.connect(brokers.get(1)!.port);
  const created = await admin.request(19, 7, {
    topics: [{ name: 'trimmed', numPartitions: 1, replicationFactor: 3, assignments: [], configs: [] }],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  admin.close();
  expect(created.topics[0].errorCode).toBe(0);
  const state = async (b: BrokerProcess) => {
    const c = await RawClient.connect(b.port);
    try {
      const answer: MetadataResponse = await c.request(3, 12, {
        topics: [{ name: 'trimmed', topicId: '00000000000000000000000000000000' }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const p = answer.topics[0].partitions[0];
      return { leader: p.leaderId, isr: [...p.isrNodes].sort() };
    } finally {
      c.close();
    }
  };
  const { leader } = await eventually(async () => {
    const p = await state(brokers.get(1)!);
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  });
  const client = await RawClient.connect(brokers.get(leader)!.port);
  for (let i = 0; i < 10; i++) {
    const batch = buildRecordBatch({ records: Array.from({ length: 10 }, (_, j) => ({ key: null, value: `t${i * 10 + j}` })) });
    expect(await produceToNewTopic(client, 'trimmed', batch)).toBe(0);
  }
  const deleted = await client.request(21, 2, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 60 }] }], timeoutMs: 10_000 });
  expect(deleted.topics[0].partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 60 });
  client.close();

  const wipedId = [1, 2, 3].find((id) => id !== leader)!;
  const wiped = brokers.get(wipedId)!;
  await wiped.kill();
  rmSync(join(wiped.dataDir, 'trimmed-0'), { recursive: true, force: true });
  const restarted = await startBroker({ dataDir: wiped.dataDir, port: wiped.port, overrides: overrides(wipedId) });
  brokers.set(wipedId, restarted);
  await eventually(async () => expect((await state(restarted)).isr).toEqual([1, 2, 3]));
  await eventually(async () => expect(await inSyncInCurrentEpoch('trimmed', wipedId)).toBe(true));
  for (const id of [1, 2, 3].filter((id) => id !== wipedId)) await brokers.get(id)!.kill();
  await eventually(async () => expect((await state(restarted)).leader).toBe(wipedId));
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
    });
    const offsets: number[] = [];
    for (const batch of parseRecordBatches(read.records ?? new Uint8Array(0))) for (const r of batch.records) offsets.push(r.offset);
    expect(offsets.filter((o) => o >= 60)).toEqual(Array.from({ length: 40 }, (_, i) => 60 + i));
  } finally {
    c.close();
  }
}, 180_000);

// Replication's two halves without a network: a follower Partition mirroring a leader's log
// byte for byte (offsets, epochs, producer state), and the leader's side (high watermark over
// the ISR, ISR expand and shrink written to the store with CAS).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRecordBatch, parseRecordBatches } from '@sluice/protocol';
import { afterEach, expect, test } from 'vitest';
import { BrokerConfig, type ConfigValue } from '../config.ts';
import { silentLogger } from '../logger.ts';
import type { Partition } from '../partition.ts';
import { TopicRegistry } from '../topics.ts';
import { ClusterView } from './cluster-view.ts';
import { MemoryKvStore } from './etcd/memory-store.ts';
import { ClusterKeys, encode, type PartitionState } from './keys.ts';
import { completeReassignment } from './reassignment.ts';
import { LeaderReplication } from './replication.ts';

const dirs: string[] = [];
const registries: TopicRegistry[] = [];
afterEach(() => {
  for (const r of registries.splice(0)) r.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function partitionIn(name: string, overrides: Array<[string, ConfigValue]> = []): Partition {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-replication-'));
  dirs.push(dir);
  const registry = new TopicRegistry(new BrokerConfig([['log.dirs', dir]]), silentLogger);
  registry.load();
  registries.push(registry);
  const partition = registry.create(name, 1, new Map(overrides), 'aaaabbbbccccddddaaaabbbbccccdddd').partitions[0];
  partition.setReplicated();
  return partition;
}

const producerBatch = (seq: number, values: string[]) =>
  buildRecordBatch({ records: values.map((value) => ({ key: null, value, timestamp: 1000 + seq })), producerId: 42, producerEpoch: 0, baseSequence: seq });

test('a follower mirrors the leader byte for byte: offsets, leader epochs, LogAppendTime timestamps, producer state', () => {
  const leader = partitionIn('t', [['message.timestamp.type', 'LogAppendTime']]);
  const follower = partitionIn('t', [['message.timestamp.type', 'LogAppendTime']]);
  leader.setLeaderEpoch(3);
  leader.append(producerBatch(0, ['a', 'b']), 5_000);
  leader.setLeaderEpoch(4);
  leader.append(producerBatch(2, ['c']), 6_000);
  leader.append(buildRecordBatch({ records: [{ key: 'k', value: 'd' }] }), 7_000);
  expect(leader.highWatermark).toBe(0); // replicated: appends do not commit themselves
  const bytes = leader.log.readBytes(0, 1 << 20)!;
  // Everything but the last batch's final byte: the partial tail waits for the next fetch.
  expect(follower.appendAsFollower(bytes.subarray(0, bytes.byteLength - 1), 99_999)).toBe(2);
  expect(follower.appendAsFollower(leader.log.readBytes(follower.logEndOffset, 1 << 20)!, 99_999)).toBe(1);
  expect(follower.logEndOffset).toBe(4);
  expect(Buffer.from(follower.log.readBytes(0, 1 << 20)!)).toEqual(Buffer.from(bytes));
  follower.followHighWatermark(10);
  expect(follower.highWatermark).toBe(4); // never past its own log end
  // The follower rebuilt the producer's state: as a leader it recognises the producer's retry.
  expect(follower.append(producerBatch(2, ['c']), 8_000).duplicate).toBe(true);
  expect(follower.append(producerBatch(3, ['e']), 8_000).baseOffset).toBe(4);
});

test('transaction markers replicate: the follower stores the same bytes and ends the transactions in its own state', () => {
  const txnBatch = (producerId: number, seq: number, value: string) =>
    buildRecordBatch({ records: [{ key: null, value, timestamp: 1000 }], producerId, producerEpoch: 0, baseSequence: seq, transactional: true });
  const leader = partitionIn('t');
  const follower = partitionIn('t');
  leader.setLeaderEpoch(2);
  leader.append(txnBatch(7, 0, 'committed'), 1_000);
  leader.append(txnBatch(8, 0, 'aborted'), 1_000);
  leader.appendTxnMarker(7, 0, 5, true, 2_000);
  leader.appendTxnMarker(8, 0, 5, false, 2_500);
  leader.append(txnBatch(9, 0, 'open'), 3_000);
  const bytes = leader.log.readBytes(0, 1 << 20)!;
  expect(follower.appendAsFollower(bytes, 99_999)).toBe(5);
  expect(Buffer.from(follower.log.readBytes(0, 1 << 20)!)).toEqual(Buffer.from(bytes));
  // Producer 9's transaction is still open there, from offset 4; producer 8's abort is indexed.
  expect(follower.log.firstUnstableOffset).toBe(4);
  expect(follower.log.abortedTransactions(0, 5).map((t) => t.producerId)).toEqual([8]);
  // As leader it would fence a stale marker as the old leader does (coordinator epoch 5 seen).
  expect(() => follower.appendTxnMarker(7, 0, 4, true, 4_000)).toThrow(/coordinator epoch 4/);
});

test('a compacted leader log is mirrored with its offset gaps; a batch below the log end is refused', async () => {
  const compact: Array<[string, ConfigValue]> = [
    ['cleanup.policy', ['compact']],
    ['segment.bytes', 1024],
    ['min.cleanable.dirty.ratio', 0],
  ];
  const leader = partitionIn('c', compact);
  for (let i = 0; i < 60; i++) leader.append(buildRecordBatch({ records: [{ key: `k${i % 4}`, value: `v${i}`, timestamp: 1000 + i }] }), 1000 + i);
  expect(await leader.log.clean(10_000)).not.toBeNull();
  // Every record as offset:key, and every stored byte, reading segment after segment.
  const read = (p: Partition) => {
    const out: string[] = [];
    const bytes: Buffer[] = [];
    let offset = 0;
    while (offset < p.logEndOffset) {
      const chunk = p.log.readBytes(offset, 1 << 20)!;
      bytes.push(chunk);
      for (const batch of parseRecordBatches(chunk)) {
        for (const r of batch.records) out.push(`${Number(batch.baseOffset) + r.offsetDelta}:${Buffer.from(r.key ?? []).toString()}`);
        offset = Number(batch.baseOffset) + batch.lastOffsetDelta + 1;
      }
    }
    return { records: out, bytes: Buffer.concat(bytes) };
  };
  const leaderLog = read(leader);
  expect(leaderLog.records.length).toBeLessThan(60); // the cleaner left gaps
  const follower = partitionIn('c', compact);
  while (follower.logEndOffset < leader.logEndOffset) follower.appendAsFollower(leader.log.readBytes(follower.logEndOffset, 300)!, 0);
  expect(follower.logEndOffset).toBe(60);
  expect(read(follower)).toEqual(leaderLog);
  expect(() => follower.appendAsFollower(leader.log.readBytes(0, 1 << 20)!, 0)).toThrow(/below this log's end 60/);
  expect(follower.logEndOffset).toBe(60);
});

test('becoming a follower truncates what the high watermark does not cover', () => {
  const p = partitionIn('t');
  p.append(buildRecordBatch({ records: [{ key: null, value: 'committed' }] }), 0);
  p.advanceHighWatermark(1);
  p.append(buildRecordBatch({ records: [{ key: null, value: 'not committed' }] }), 0);
  p.truncateToHighWatermark();
  expect(p.logEndOffset).toBe(1);
});

/** Broker 1 leads t-0 with `isr` (node ids) among `replicas`; brokers 1-3 registered. */
async function leaderSetup(isr: number[], replicas: number[]) {
  const store = new MemoryKvStore();
  const keys = new ClusterKeys('/r');
  for (const id of [1, 2, 3]) {
    await store.put(keys.broker(id), JSON.stringify({ nodeId: id, listeners: [], rack: null, directoryId: `d${id}`, registeredAt: 0 }));
  }
  const epochs = new Map<number, number>();
  for (const id of [1, 2, 3]) epochs.set(id, (await store.get(keys.broker(id)))!.createRevision);
  await store.put(keys.topic('t'), JSON.stringify({ id: 'aaaabbbbccccddddaaaabbbbccccdddd', configs: {}, replicas: [replicas] }));
  const state: PartitionState = { leader: 1, leaderEpoch: 0, isr: isr.map((id) => ({ id, brokerEpoch: epochs.get(id)! })), partitionEpoch: 0 };
  await store.put(keys.partition('t', 0), encode(state));
  const view = new ClusterView(store, keys, silentLogger);
  await view.start();
  const partition = partitionIn('t');
  const replication = new LeaderReplication(view, store, 1, () => epochs.get(1)!, 1_000, silentLogger);
  replication.becameLeader(partition, 0, 0);
  return { store, keys, view, partition, replication };
}

test("the leader's high watermark is the smallest log end over the ISR", async () => {
  const { partition, replication } = await leaderSetup([1, 2, 3], [1, 2, 3]);
  for (let i = 0; i < 5; i++) partition.append(buildRecordBatch({ records: [{ key: null, value: `v${i}` }] }), 0);
  replication.onLeaderAppend(partition);
  expect(partition.highWatermark).toBe(0); // followers have not fetched
  replication.onFollowerFetch(partition, 2, 5, 10);
  expect(partition.highWatermark).toBe(0); // follower 3 is in the ISR and has nothing
  replication.onFollowerFetch(partition, 3, 3, 10);
  expect(partition.highWatermark).toBe(3);
  replication.onFollowerFetch(partition, 3, 5, 10);
  expect(partition.highWatermark).toBe(5);
});

test('a caught-up follower joins the ISR; one lagging past replica.lag.time.max.ms leaves it; both written with CAS', async () => {
  const { store, keys, view, partition, replication } = await leaderSetup([1, 2], [1, 2, 3]);
  partition.append(buildRecordBatch({ records: [{ key: null, value: 'x' }] }), 0);
  replication.onFollowerFetch(partition, 2, 1, 10);
  expect(partition.highWatermark).toBe(1);
  replication.onFollowerFetch(partition, 3, 0, 10); // behind the high watermark: not yet
  await new Promise((r) => setTimeout(r, 20));
  expect(view.partition('t', 0)!.record.isr.map((m) => m.id)).toEqual([1, 2]);
  replication.onFollowerFetch(partition, 3, 1, 20);
  await new Promise((r) => setTimeout(r, 20));
  const expanded = JSON.parse((await store.get(keys.partition('t', 0)))!.value) as PartitionState;
  expect(expanded.isr.map((m) => m.id)).toEqual([1, 2, 3]);
  expect(expanded.partitionEpoch).toBe(1);
  expect(expanded.leaderEpoch).toBe(0);
  // Follower 2 stops fetching; 3 keeps up. After the lag time, 2 is out.
  replication.onFollowerFetch(partition, 3, 1, 1_500);
  replication.shrinkLaggingIsr(1_500);
  await new Promise((r) => setTimeout(r, 20));
  expect(view.partition('t', 0)!.record.isr.map((m) => m.id)).toEqual([1, 3]);
});

test('a follower that keeps up under steady produce load stays in the ISR though its fetch never asks for the very log end', async () => {
  // Found by the cluster fault harness (150 ms added to a follower's connections while producers
  // ran): records arrive while each fetch is in flight, so no fetch offset equals the log end;
  // as in Kafka, a fetch reaching the log end of the previous fetch's time is caught up as of then.
  const { view, partition, replication } = await leaderSetup([1, 2], [1, 2]);
  let previousLogEnd = 0;
  for (let t = 0; t <= 3_000; t += 200) {
    partition.append(buildRecordBatch({ records: [{ key: null, value: `v${t}` }] }), 0);
    replication.onFollowerFetch(partition, 2, previousLogEnd, t);
    previousLogEnd = partition.logEndOffset;
  }
  replication.shrinkLaggingIsr(3_000);
  await new Promise((r) => setTimeout(r, 20));
  expect(view.partition('t', 0)!.record.isr.map((m) => m.id)).toEqual([1, 2]);
  // One that falls further behind than the previous fetch's log end does leave.
  for (let t = 3_200; t <= 5_000; t += 200) {
    partition.append(buildRecordBatch({ records: [{ key: null, value: `w${t}` }] }), 0);
    replication.onFollowerFetch(partition, 2, 1, t);
  }
  replication.shrinkLaggingIsr(5_000);
  await new Promise((r) => setTimeout(r, 20));
  expect(view.partition('t', 0)!.record.isr.map((m) => m.id)).toEqual([1]);
});

test('replica lag per follower: offsets behind the leader and time since it last had everything; KIP-392 candidates', async () => {
  const { partition, replication } = await leaderSetup([1, 2, 3], [1, 2, 3]);
  for (let i = 0; i < 4; i++) partition.append(buildRecordBatch({ records: [{ key: null, value: `v${i}` }] }), 0);
  replication.onFollowerFetch(partition, 2, 4, 100); // has everything at 100
  replication.onFollowerFetch(partition, 3, 1, 100); // three offsets behind, not caught up since the start (0)
  expect(replication.replicaLag(600)).toEqual([
    { topic: 't', partition: 0, replica: 2, messages: 0, ms: 500 },
    { topic: 't', partition: 0, replica: 3, messages: 3, ms: 600 },
  ]);
  // Follower fetching candidates at offset 2: only the ISR follower whose log reaches it.
  expect(replication.readReplicaCandidates(partition, 2).map((c) => c.id)).toEqual([2]);
  expect(replication.readReplicaCandidates(partition, 1).map((c) => c.id)).toEqual([2, 3]);
});

test('an ISR shrunk by the controller (same leader epoch) lets the high watermark move', async () => {
  const { store, keys, view, partition, replication } = await leaderSetup([1, 2, 3], [1, 2, 3]);
  for (let i = 0; i < 5; i++) partition.append(buildRecordBatch({ records: [{ key: null, value: `v${i}` }] }), 0);
  replication.onFollowerFetch(partition, 2, 5, 10);
  expect(partition.highWatermark).toBe(0); // 3 is in the ISR and has nothing
  const current = view.partition('t', 0)!.record;
  const written = await store.put(
    keys.partition('t', 0),
    encode({ ...current, isr: current.isr.filter((m) => m.id !== 3), partitionEpoch: current.partitionEpoch + 1 }),
  );
  await view.waitForRevision(written);
  replication.becameLeader(partition, 0); // the broker's pass over its roles after the view change
  expect(partition.highWatermark).toBe(5);
});

test('a follower being added to the ISR counts for the high watermark from the moment the expansion is proposed', async () => {
  // Found by the cluster fault harness (membership fault, acknowledged records lost): a
  // reassignment added broker 4, the leader wrote the ISR with 4 in it, and before the leader's
  // view showed that write it still committed (and acknowledged, acks=all) records 4 did not
  // have; the controller had meanwhile completed the reassignment and made 4 leader, whose log
  // lacked them. Kafka's leader counts the maximal ISR (the ISR plus pending additions) for the
  // high watermark for exactly this reason.
  const { store, keys, view, partition, replication } = await leaderSetup([1, 2], [1, 2, 3]);
  partition.append(buildRecordBatch({ records: [{ key: null, value: 'x' }] }), 0);
  replication.onFollowerFetch(partition, 2, 1, 10);
  replication.onFollowerFetch(partition, 3, 1, 10); // caught up: the expansion to [1, 2, 3] is proposed
  for (let i = 0; i < 3; i++) partition.append(buildRecordBatch({ records: [{ key: null, value: `v${i}` }] }), 0);
  replication.onLeaderAppend(partition);
  replication.onFollowerFetch(partition, 2, 4, 20);
  // The view does not show the new ISR yet, but the controller may already act on it.
  expect(view.partition('t', 0)!.record.isr.map((m) => m.id)).toEqual([1, 2]);
  expect(partition.highWatermark).toBe(1); // not 4: follower 3 has only offset 0
  await new Promise((r) => setTimeout(r, 20));
  const written = JSON.parse((await store.get(keys.partition('t', 0)))!.value) as PartitionState;
  expect(written.isr.map((m) => m.id)).toEqual([1, 2, 3]);
  expect(partition.highWatermark).toBe(1);
  replication.onFollowerFetch(partition, 3, 4, 30);
  expect(partition.highWatermark).toBe(4);
});

test('an expansion that lost its CAS stops holding the high watermark once the view has the state that won', async () => {
  const { store, keys, view, partition, replication } = await leaderSetup([1, 2, 3], [1, 2, 3]);
  partition.append(buildRecordBatch({ records: [{ key: null, value: 'x' }] }), 0);
  replication.onFollowerFetch(partition, 2, 1, 10);
  replication.onFollowerFetch(partition, 3, 1, 10);
  expect(partition.highWatermark).toBe(1);
  // The controller drops 3 (its broker epoch changed: it restarted) — then 3 fetches again, the
  // leader proposes it back, and the controller's next write beats that proposal.
  const before = view.partition('t', 0)!;
  const dropped = await store.put(keys.partition('t', 0), encode({ ...before.record, isr: before.record.isr.filter((m) => m.id !== 3), partitionEpoch: 1 }));
  await view.waitForRevision(dropped);
  replication.becameLeader(partition, 0);
  const afterDrop = view.partition('t', 0)!;
  replication.onFollowerFetch(partition, 3, 1, 20); // proposes [1, 2, 3] on afterDrop's revision
  const raced = await store.put(keys.partition('t', 0), encode({ ...afterDrop.record, partitionEpoch: 2 }));
  await view.waitForRevision(raced);
  await new Promise((r) => setTimeout(r, 20));
  expect(view.partition('t', 0)!.record.isr.map((m) => m.id)).toEqual([1, 2]); // the partition moved on without 3
  partition.append(buildRecordBatch({ records: [{ key: null, value: 'y' }] }), 0);
  replication.onFollowerFetch(partition, 2, 2, 30);
  // 3 fetched at 1 but is not in the ISR any more: the high watermark does not wait for it.
  expect(partition.highWatermark).toBe(2);
});

test('the replica a reassignment completes onto has every record the old leader committed (the membership fault, seed 20261208)', async () => {
  // Replicas [3, 2, 1] while moving from [1, 2] to [3, 2]: broker 3 catches up, the leader
  // proposes it into the ISR, keeps taking writes, and the controller completes the move on the
  // ISR it reads from the store, before the leader's view shows it.
  const { store, keys, view, partition, replication } = await leaderSetup([1, 2], [3, 2, 1]);
  partition.append(buildRecordBatch({ records: [{ key: null, value: 'x' }] }), 0);
  replication.onFollowerFetch(partition, 2, 1, 10);
  replication.onFollowerFetch(partition, 3, 1, 10); // joins: the expansion is proposed
  for (let i = 0; i < 3; i++) partition.append(buildRecordBatch({ records: [{ key: null, value: `v${i}` }] }), 0);
  replication.onLeaderAppend(partition);
  replication.onFollowerFetch(partition, 2, 4, 20); // broker 2 has everything, broker 3 only offset 0
  const committed = partition.highWatermark;
  await new Promise((r) => setTimeout(r, 20));
  const stored = JSON.parse((await store.get(keys.partition('t', 0)))!.value) as PartitionState;
  const completed = completeReassignment(stored, { target: [3, 2], original: [1, 2] }, view.brokers);
  expect(completed?.leader).toBe(3);
  // Everything the old leader counted committed (and acknowledged with acks=all) is on the new leader.
  expect(committed).toBeLessThanOrEqual(1);
  expect(partition.highWatermark).toBeLessThanOrEqual(1);
});

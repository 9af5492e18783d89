// A follower with a diverged log truncates (KIP-101/279) and never serves divergent data. The
// leader takes an acks=1 write its followers never fetch (they are stopped), then dies; a follower
// leads in a new epoch and takes other writes at the same offsets. The old leader restarts on its
// data dir: it must drop its un-replicated record (told by the new leader's Fetch answers where
// its epoch ends: the diverging epoch, no OffsetForLeaderEpoch) and end up with exactly the new
// leader's log. A consumer positioned past the lost record gets the same diverging-epoch answer
// (KIP-320), and the restarted broker checkpoints its high watermark.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { createTopic, partitionViews, TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';
import { fetchRequest, produce, readPartition } from './support/requests.ts';

let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);

beforeAll(async () => {
  cluster = await TestCluster.start({
    prefix: '/diverge',
    // Long enough that the followers' short stop does not cost them their leases.
    overrides: { 'broker.session.timeout.ms': 6000, 'replica.lag.time.max.ms': 10000 },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

async function partitionZero(broker: BrokerProcess) {
  return (await partitionViews(broker, 'diverge'))[0]!;
}

async function values(broker: BrokerProcess): Promise<Array<string | null>> {
  const client = await RawClient.connect(broker.port);
  try {
    return (await readPartition(client, 'diverge', 0)).records.map((r) => r.value);
  } finally {
    client.close();
  }
}

test('the old leader truncates its un-replicated write and mirrors the new leader', async () => {
  expect((await createTopic(broker(1), { name: 'diverge', partitions: 1, replicationFactor: 3 })).errorCode).toBe(0);
  const start = await eventually(async () => {
    const p = await partitionZero(broker(1));
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  });
  const oldLeader = start.leader;
  const followers = [1, 2, 3].filter((id) => id !== oldLeader);
  const leaderClient = await RawClient.connect(broker(oldLeader).port);
  for (const v of ['one', 'two']) expect((await produce(leaderClient, 'diverge', 0, [v], -1)).errorCode).toBe(0);

  // The followers stop; once their parked fetches have been answered (empty, after
  // replica.fetch.wait.max.ms) nothing is on its way to them. The leader takes a write only it
  // has, then dies.
  for (const id of followers) cluster.pause(id);
  await new Promise((r) => setTimeout(r, 800));
  expect((await produce(leaderClient, 'diverge', 0, ['lost'], 1)).errorCode).toBe(0);
  leaderClient.close();
  await cluster.kill(oldLeader);
  for (const id of followers) cluster.resume(id);

  const next = await eventually(async () => {
    const p = await partitionZero(broker(followers[0]));
    expect(followers).toContain(p.leader);
    expect(p.leaderEpoch).toBeGreaterThan(start.leaderEpoch);
    return p;
  });
  // The new leader takes writes at the offsets the lost record had on the old leader.
  const newLeader = broker(next.leader);
  const client = await RawClient.connect(newLeader.port);
  for (const v of ['three', 'four'])
    expect(
      (
        await eventually(async () => {
          const outcome = await produce(client, 'diverge', 0, [v], -1);
          expect(outcome.errorCode).toBe(0);
          return outcome;
        })
      ).errorCode,
    ).toBe(0);
  client.close();
  const expected = ['one', 'two', 'three', 'four'];
  await eventually(async () => expect(await values(newLeader)).toEqual(expected));
  // KIP-320: a consumer that had read the lost record (position 3, its last fetched epoch the old
  // leader's) is told by the new leader where that epoch ends there, with no records.
  const consumer = await RawClient.connect(newLeader.port);
  const base = fetchRequest('diverge', 0, 3);
  const partition = { ...base.topics[0].partitions[0], lastFetchedEpoch: start.leaderEpoch };
  const detected = await consumer.request(1, 12, { ...base, topics: [{ topic: 'diverge', partitions: [partition] }] });
  consumer.close();
  expect(detected.responses[0].partitions[0]).toMatchObject({ errorCode: 0, divergingEpoch: { epoch: start.leaderEpoch, endOffset: 2 } });
  expect(detected.responses[0].partitions[0].records?.byteLength ?? 0).toBe(0);

  // The old leader restarts, truncates at the divergence, catches up and rejoins the ISR.
  const restarted = await cluster.restart(oldLeader, { 'sluice.log.level': 'info' });
  await eventually(async () => expect((await partitionZero(restarted)).isr).toEqual([1, 2, 3]));
  expect(restarted.output()).toMatch(/truncated to where the leader's log diverges/);
  // Truncation on fetch (Fetch v12 lastFetchedEpoch -> divergingEpoch): no follower asked the new
  // leader OffsetForLeaderEpoch.
  const served = await (await fetch(newLeader.metricsUrl!)).text();
  expect(served).toMatch(/^sluice_requests_total\{api="Fetch"/m);
  expect(served).not.toMatch(/^sluice_requests_total\{api="OffsetForLeaderEpoch"/m);
  // Make it the leader: it must serve exactly the new leader's history, without 'lost'.
  for (const id of followers) await cluster.kill(id);
  for (const id of followers) await cluster.restart(id);
  await eventually(async () => {
    const p = await partitionZero(restarted);
    expect(p.leader).toBe(oldLeader);
  });
  await eventually(async () => expect(await values(restarted)).toEqual(expected));
  // Its high watermark is checkpointed in Kafka's replication-offset-checkpoint (every 5 s).
  await eventually(async () => expect(readFileSync(join(restarted.dataDir, 'replication-offset-checkpoint'), 'utf8')).toMatch(/^diverge 0 4$/m));
});

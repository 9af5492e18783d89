// KIP-392 follower fetching on 3 brokers in racks r1, r2, r3 with Kafka's
// RackAwareReplicaSelector: the leader answers a consumer in a follower's rack with
// preferredReadReplica (no records); kcat with client.rack (librdkafka honours it) reads every
// record, from the follower (its follower-read bytes count them); a consumer in the leader's rack
// reads from the leader. A follower serves consumers only up to the high watermark it learnt from
// the leader: with the third replica stopped (still in the ISR) acks=1 records reach the follower
// but not the high watermark, and the follower does not hand them out until the ISR has them;
// the leader's replica lag metrics show the stopped one behind.

import { parseRecordBatches } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { createTopic, partitionViews, TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { RawClient } from './support/raw-client.ts';
import { fetchRequest, produce } from './support/requests.ts';

const TOPIC = 'nearby';
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);
const WAIT = { timeoutMs: 20_000, intervalMs: 150 };

beforeAll(async () => {
  requireKcat();
  cluster = await TestCluster.start({
    prefix: '/follower-fetch',
    overrides: (nodeId) => ({
      'broker.rack': `r${nodeId}`,
      'replica.selector.class': 'org.apache.kafka.common.replica.RackAwareReplicaSelector',
      // The stopped replica stays in the ISR for the whole high-watermark check.
      'replica.lag.time.max.ms': 60_000,
      'broker.session.timeout.ms': 60_000,
    }),
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

async function partitionZero(broker: BrokerProcess) {
  return (await partitionViews(broker, TOPIC))[0]!;
}

/** One consumer Fetch v11 of partition 0 from `offset`, as a client in `rack`. */
async function fetchAs(broker: BrokerProcess, rack: string, offset: number) {
  const client = await RawClient.connect(broker.port);
  try {
    const response = await client.request(1, 11, { ...fetchRequest(TOPIC, 0, offset), rackId: rack });
    const p = response.responses[0].partitions[0];
    const offsets: number[] = [];
    for (const batch of parseRecordBatches(p.records ?? new Uint8Array(0), { allowTruncatedTail: true })) for (const r of batch.records) offsets.push(r.offset);
    return { errorCode: p.errorCode, highWatermark: Number(p.highWatermark), preferredReadReplica: p.preferredReadReplica, offsets };
  } finally {
    client.close();
  }
}

/** A sample's value (0 when absent); `labels` must all be on the sample's line. */
async function metric(broker: BrokerProcess, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(broker.metricsUrl!)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => (l.startsWith(`${name} `) || l.startsWith(`${name}{`)) && wanted.every((w) => l.includes(w)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('a consumer with client.rack reads from the in-sync follower in its rack, never past the high watermark', async () => {
  expect((await createTopic(broker(1), { name: TOPIC, partitions: 1, replicationFactor: 3 })).errorCode).toBe(0);
  const { leader } = await eventually(async () => {
    const p = await partitionZero(broker(1));
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  }, WAIT);
  const [follower, third] = [1, 2, 3].filter((id) => id !== leader) as [number, number];
  const leaderClient = await RawClient.connect(broker(leader).port);
  for (let i = 0; i < 10; i++)
    expect(
      (
        await produce(
          leaderClient,
          TOPIC,
          0,
          [0, 1, 2, 3, 4].map((j) => `r${i * 5 + j}`),
          -1,
        )
      ).errorCode,
    ).toBe(0);

  // The leader sends a consumer of the follower's rack there, and keeps one of its own rack.
  await eventually(async () => {
    const redirected = await fetchAs(broker(leader), `r${follower}`, 0);
    expect(redirected).toMatchObject({ errorCode: 0, preferredReadReplica: follower, offsets: [] });
  }, WAIT);
  const local = await fetchAs(broker(leader), `r${leader}`, 0);
  expect(local.preferredReadReplica).toBe(-1);
  expect(local.offsets.length).toBe(50);
  // A rack no replica is in: the leader.
  expect((await fetchAs(broker(leader), 'elsewhere', 0)).preferredReadReplica).toBe(-1);

  // kcat (librdkafka follows preferredReadReplica) reads all 50 records from the follower.
  const before = await metric(broker(follower), 'sluice_cluster_follower_read_bytes_total');
  const consumed = await kcat([
    '-C',
    '-b',
    broker(leader).bootstrap,
    '-t',
    TOPIC,
    '-p',
    '0',
    '-o',
    'beginning',
    '-e',
    '-q',
    '-X',
    `client.rack=r${follower}`,
    '-f',
    '%o\\n',
  ]);
  expect(consumed.code, consumed.stderr).toBe(0);
  expect(consumed.stdout.trim().split('\n').map(Number)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(await metric(broker(follower), 'sluice_cluster_follower_read_bytes_total')).toBeGreaterThan(before);

  // The third replica stops (it stays in the ISR): acks=1 records reach the follower's log but
  // not the high watermark; the follower serves up to 50 only.
  cluster.pause(third);
  await new Promise((r) => setTimeout(r, 800)); // its parked fetch has been answered
  const replicated = await metric(broker(follower), 'sluice_cluster_replica_fetched_bytes_total');
  expect((await produce(leaderClient, TOPIC, 0, ['past-hw-1', 'past-hw-2'], 1)).errorCode).toBe(0);
  await eventually(async () => expect(await metric(broker(follower), 'sluice_cluster_replica_fetched_bytes_total')).toBeGreaterThan(replicated), WAIT);
  // The leader's lag metrics see the stopped replica fall behind; the follower kept up.
  const lag = (replica: number) => metric(broker(leader), 'sluice_cluster_replica_lag_messages', { topic: TOPIC, replica: String(replica) });
  await eventually(async () => expect(await lag(third)).toBeGreaterThanOrEqual(2), WAIT);
  await eventually(async () => expect(await lag(follower)).toBe(0), WAIT);
  expect(await metric(broker(leader), 'sluice_cluster_follower_fetch_bytes_total', { replica: String(follower) })).toBeGreaterThan(0);
  const bounded = await fetchAs(broker(follower), `r${follower}`, 0);
  expect(bounded.errorCode).toBe(0);
  expect(bounded.highWatermark).toBe(50);
  expect(Math.max(...bounded.offsets)).toBe(49);
  const atHw = await fetchAs(broker(follower), `r${follower}`, 50);
  expect(atHw).toMatchObject({ errorCode: 0, offsets: [] });

  // The third replica comes back: the high watermark passes the records, the follower serves them.
  cluster.resume(third);
  await eventually(async () => {
    const after = await fetchAs(broker(follower), `r${follower}`, 50);
    expect(after).toMatchObject({ errorCode: 0, highWatermark: 52, offsets: [50, 51] });
  }, WAIT);
  leaderClient.close();
}, 120_000);

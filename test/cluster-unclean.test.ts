// Unclean leader election (Kafka's escape hatch when every in-sync replica is gone for good),
// end to end: etcd and 3 brokers. A partition's ISR shrinks to its leader (the followers are
// killed), the leader takes a record only it has, then dies; a follower comes back out of sync, so
// the partition has no leader. Round 1: Kafka's `kafka-leader-election --election-type unclean`
// makes that follower lead — it serves what it has, the dead leader's last record is lost, and the
// old leader, restarted, truncates to the new leader's history. Round 2 (another topic): the
// controller leaves the partition offline until Kafka's `kafka-configs` sets
// `unclean.leader.election.enable=true` on the topic, then elects the follower by itself.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTopic, TestCluster, topicMetadata } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { KAFKA_TOOL, kafkaToolsLibs, runKafkaTool } from './support/kafka-tools.ts';
import { RawClient } from './support/raw-client.ts';
import { produce, readPartition } from './support/requests.ts';

const LEADER_NOT_AVAILABLE = 5;

let cluster: TestCluster;
let libs: string;

beforeAll(async () => {
  libs = kafkaToolsLibs();
  cluster = await TestCluster.start({
    prefix: '/unclean',
    // A killed broker's registration goes after 3 s: the controller then takes it out of the ISR.
    overrides: { 'broker.session.timeout.ms': 3000, 'replica.lag.time.max.ms': 5000 },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

/** Partition 0 of `topic` as `via`'s Metadata answers it. */
async function partitionZero(via: number, topic: string) {
  const p = (await topicMetadata(cluster.broker(via), topic)).topics[0].partitions[0];
  return { errorCode: p.errorCode, leader: p.leaderId, leaderEpoch: p.leaderEpoch ?? -1, replicas: [...p.replicaNodes], isr: [...p.isrNodes].sort() };
}

async function values(nodeId: number, topic: string): Promise<Array<string | null>> {
  const client = await RawClient.connect(cluster.broker(nodeId).port);
  try {
    const read = await readPartition(client, topic, 0);
    expect(read.errorCode).toBe(0);
    return read.records.map((r) => r.value);
  } finally {
    client.close();
  }
}

async function write(nodeId: number, topic: string, value: string): Promise<void> {
  const client = await RawClient.connect(cluster.broker(nodeId).port);
  try {
    await eventually(async () => expect((await produce(client, topic, 0, [value], -1)).errorCode).toBe(0));
  } finally {
    client.close();
  }
}

async function tool(via: number, mainClass: string, args: readonly string[]): Promise<string> {
  const r = await runKafkaTool(libs, mainClass, ['--bootstrap-server', cluster.broker(via).bootstrap, ...args], { timeoutMs: 60_000 });
  expect(r.code, `${args.join(' ')}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/**
 * Creates `topic` (RF 3, min.insync.replicas=1), writes `kept` while every replica is in sync,
 * kills both followers, writes `lost` on the leader alone, kills the leader and restarts one
 * follower: the partition is left with no leader. Answers the old leader and the restarted follower.
 */
async function strandPartition(topic: string, kept: string, lost: string): Promise<{ oldLeader: number; follower: number; other: number }> {
  const created = await createTopic(cluster.broker(1), { name: topic, partitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '1' } });
  expect(created.errorCode).toBe(0);
  const start = await eventually(async () => {
    const p = await partitionZero(1, topic);
    expect(p.isr).toEqual([1, 2, 3]);
    return p;
  });
  const oldLeader = start.leader;
  await write(oldLeader, topic, kept);
  // The follower listed first in the replicas is the one Kafka's rule elects when it alone is live.
  const [follower, other] = start.replicas.filter((id) => id !== oldLeader);
  await cluster.kill(follower);
  await cluster.kill(other);
  await eventually(async () => expect((await partitionZero(oldLeader, topic)).isr).toEqual([oldLeader]));
  await write(oldLeader, topic, lost);
  await cluster.kill(oldLeader);
  await cluster.restart(follower);
  // The restarted follower is registered but out of sync: nobody may lead.
  await eventually(async () => {
    const p = await partitionZero(follower, topic);
    expect(p.leader).toBe(-1);
    expect(p.errorCode).toBe(LEADER_NOT_AVAILABLE);
    expect(p.isr).toEqual([oldLeader]);
  });
  return { oldLeader, follower, other };
}

test('kafka-leader-election --election-type unclean, then unclean.leader.election.enable set with kafka-configs, elect an out-of-sync replica', async () => {
  // Round 1: the operator's unclean election.
  const round1 = await strandPartition('manual', 'kept', 'lost');
  const elected = await tool(round1.follower, KAFKA_TOOL.leaderElection, ['--election-type', 'unclean', '--topic', 'manual', '--partition', '0']);
  expect(elected).toContain('Successfully completed leader election (UNCLEAN) for partitions manual-0');
  const led = await partitionZero(round1.follower, 'manual');
  expect(led).toMatchObject({ errorCode: 0, leader: round1.follower, isr: [round1.follower] });
  // It serves what it has: the record only the dead leader had is lost, as in Kafka.
  expect(await values(round1.follower, 'manual')).toEqual(['kept']);
  await write(round1.follower, 'manual', 'after');
  const metrics = await (await fetch(cluster.broker(round1.follower).metricsUrl!)).text();
  expect(metrics).toMatch(/^sluice_cluster_unclean_leader_elections_total 1$/m);
  // The old leader and the other follower come back, truncate to the new leader's log and rejoin.
  await cluster.restart(round1.oldLeader);
  await cluster.restart(round1.other);
  await eventually(async () => expect((await partitionZero(round1.follower, 'manual')).isr).toEqual([1, 2, 3]), { timeoutMs: 30_000 });
  expect(await values(round1.follower, 'manual')).toEqual(['kept', 'after']);
  // The old leader dropped its 'lost' (KIP-279 truncation) and serves exactly the new history (KIP-392 follower read).
  await eventually(async () => expect(await values(round1.oldLeader, 'manual')).toEqual(['kept', 'after']));

  // Round 2: the controller elects by itself once the topic allows it.
  const round2 = await strandPartition('automatic', 'kept', 'lost');
  // Nothing happens by default (unclean.leader.election.enable=false)...
  await new Promise((r) => setTimeout(r, 1000));
  expect((await partitionZero(round2.follower, 'automatic')).leader).toBe(-1);
  // ...until the topic's config is changed at runtime.
  await tool(round2.follower, KAFKA_TOOL.configs, [
    '--alter',
    '--entity-type',
    'topics',
    '--entity-name',
    'automatic',
    '--add-config',
    'unclean.leader.election.enable=true',
  ]);
  await eventually(async () =>
    expect(await partitionZero(round2.follower, 'automatic')).toMatchObject({ errorCode: 0, leader: round2.follower, isr: [round2.follower] }),
  );
  expect(await values(round2.follower, 'automatic')).toEqual(['kept']);
}, 120_000);

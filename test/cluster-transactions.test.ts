// Transaction markers replicate: on three brokers, a kafkajs transactional producer commits,
// aborts and commits again on a partition led by the controller (any leader would do now that
// markers reach every broker: cluster-transactions-failover.test.ts); the followers append the COMMIT/ABORT control
// batches as the leader wrote them. Then the leader is killed with SIGKILL: the new leader (a
// former follower) has no transaction left open — its last stable offset is its high watermark —
// lists the aborted transaction for read_committed fetches, and a read_committed consumer
// receives exactly the committed records. `sluice cluster status` shows the partitions
// under-replicated meanwhile.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TestCluster, topicMetadata } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';
import { fetchRequest } from './support/requests.ts';

const SLUICE_BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'sluice.js');
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);
const WAIT = { timeoutMs: 30_000, intervalMs: 200 };

beforeAll(async () => {
  cluster = await TestCluster.start({
    prefix: '/transactions',
    overrides: {
      'broker.session.timeout.ms': 3000,
      'replica.lag.time.max.ms': 5000,
      // The consumer group starts after the kill (two brokers live).
      'offsets.topic.replication.factor': 2,
    },
  });
}, 90_000);

afterAll(async () => {
  await cluster?.stop();
});

test('COMMIT and ABORT markers reach the followers: after a leader kill the new leader serves read_committed correctly', async () => {
  const kafka = new Kafka({
    clientId: 'txn-cluster-test',
    brokers: cluster.bootstrap(),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
  // The partition the controller leads (leaders are spread over the three brokers).
  const { partition, controller } = await eventually(async () => {
    const answer = await topicMetadata(broker(1), 'ledger');
    const led = answer.topics[0].partitions.find((p) => p.leaderId === answer.controllerId);
    expect(led?.isrNodes).toHaveLength(3);
    return { partition: led!.partitionIndex, controller: answer.controllerId! };
  }, WAIT);

  const producer = kafka.producer({ transactionalId: 'ledger-writer', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const inTransaction = async (values: string[], commit: boolean) => {
    const txn = await producer.transaction();
    await txn.send({ topic: 'ledger', messages: values.map((value) => ({ partition, value })) });
    if (commit) await txn.commit();
    else await txn.abort();
  };
  await inTransaction(['c1', 'c2', 'c3'], true);
  await inTransaction(['a1', 'a2'], false);
  await inTransaction(['c4', 'c5'], true);
  await producer.disconnect();
  // 3 + marker + 2 + marker + 2 + marker: every replica has all 10 offsets.
  await eventually(async () => {
    const p = (await topicMetadata(broker(1), 'ledger')).topics[0].partitions.find((x) => x.partitionIndex === partition)!;
    expect(p.isrNodes).toHaveLength(3);
  }, WAIT);
  // Give the followers a fetch round for the last marker (the high watermark needs it too).
  const leaderClient = await RawClient.connect(broker(controller).port);
  await eventually(async () => {
    const answer = await leaderClient.request(1, 11, { ...fetchRequest('ledger', partition, 0), isolationLevel: 1 });
    expect(Number(answer.responses[0].partitions[0].highWatermark)).toBe(10);
  }, WAIT);
  leaderClient.close();

  await cluster.kill(controller);
  const survivor = cluster.live()[0]!;
  const newLeader = await eventually(async () => {
    const p = (await topicMetadata(survivor, 'ledger')).topics[0].partitions.find((x) => x.partitionIndex === partition)!;
    expect(p.leaderId).not.toBe(controller);
    expect(cluster.isLive(p.leaderId)).toBe(true);
    return p.leaderId;
  }, WAIT);
  // `sluice cluster status` names the two live brokers and every ledger partition as
  // under-replicated (the killed broker left their ISR).
  const status = await eventually(async () => {
    const r = spawnSync(process.execPath, [SLUICE_BIN, 'cluster', 'status', '--bootstrap-server', survivor.bootstrap], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^ledger\s+\d+\s+\d+\s+[\d,]+\s+[\d,]+\s+under-replicated$/gm)).toHaveLength(3);
    return r.stdout;
  }, WAIT);
  expect(status).toMatch(new RegExp(`^Brokers: ${cluster.liveIds.join(', ')}$`, 'm'));
  expect(status).toMatch(/offline: 0$/m);

  const client = await RawClient.connect(broker(newLeader).port);
  const answer = await eventually(async () => {
    const a = await client.request(1, 11, { ...fetchRequest('ledger', partition, 0), isolationLevel: 1 });
    const p = a.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    expect(Number(p.highWatermark)).toBe(10);
    return p;
  }, WAIT);
  client.close();
  // No transaction left open on the new leader, and the abort is there for read_committed.
  expect(Number(answer.lastStableOffset)).toBe(10);
  expect((answer.abortedTransactions ?? []).map((t: { firstOffset: bigint | number }) => Number(t.firstOffset))).toEqual([4]);

  const consumer = kafka.consumer({ groupId: 'auditors', sessionTimeout: 10_000, rebalanceTimeout: 10_000, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: 'ledger', fromBeginning: true });
  const received: string[] = [];
  await consumer.run({
    eachMessage: async ({ partition: p, message }) => {
      if (p === partition) received.push(message.value!.toString());
    },
  });
  await eventually(async () => expect(received.length).toBeGreaterThanOrEqual(5), WAIT);
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  expect(received).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
}, 150_000);

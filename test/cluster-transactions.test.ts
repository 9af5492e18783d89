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
import type { MetadataResponse } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { type EtcdServer, startEtcd } from './support/etcd-server.ts';
import { RawClient } from './support/raw-client.ts';
import { fetchRequest } from './support/requests.ts';

const SLUICE_BIN = join(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'sluice.js');
let etcd: EtcdServer;
const brokers = new Map<number, BrokerProcess>();
const dataDirs: string[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  for (const nodeId of [1, 2, 3]) {
    const b = await startBroker({
      overrides: {
        'node.id': nodeId,
        'sluice.metadata.etcd.endpoints': etcd.endpoint,
        'sluice.metadata.etcd.prefix': '/transactions',
        'broker.session.timeout.ms': 3000,
        'replica.lag.time.max.ms': 5000,
        // The consumer group starts after the kill (two brokers live).
        'offsets.topic.replication.factor': 2,
      },
    });
    brokers.set(nodeId, b);
    dataDirs.push(b.dataDir);
  }
}, 90_000);

afterAll(async () => {
  for (const b of brokers.values()) await b.kill();
  await etcd?.stop();
  for (const dir of dataDirs) removeDir(dir);
});

async function metadata(via: BrokerProcess): Promise<MetadataResponse> {
  const client = await RawClient.connect(via.port);
  try {
    return await client.request(3, 12, {
      topics: [{ name: 'ledger', topicId: '00000000000000000000000000000000' }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
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
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

test('COMMIT and ABORT markers reach the followers: after a leader kill the new leader serves read_committed correctly', async () => {
  const kafka = new Kafka({
    clientId: 'txn-cluster-test',
    brokers: [...brokers.values()].map((b) => b.bootstrap),
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 200, maxRetryTime: 2000 },
  });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'ledger', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
  // The partition the controller leads (leaders are spread over the three brokers).
  const { partition, controller } = await eventually(async () => {
    const answer = await metadata(brokers.get(1)!);
    const led = answer.topics[0].partitions.find((p) => p.leaderId === answer.controllerId);
    expect(led?.isrNodes).toHaveLength(3);
    return { partition: led!.partitionIndex, controller: answer.controllerId! };
  });

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
    const p = (await metadata(brokers.get(1)!)).topics[0].partitions.find((x) => x.partitionIndex === partition)!;
    expect(p.isrNodes).toHaveLength(3);
  });
  // Give the followers a fetch round for the last marker (the high watermark needs it too).
  const leaderClient = await RawClient.connect(brokers.get(controller)!.port);
  await eventually(async () => {
    const answer = await leaderClient.request(1, 11, { ...fetchRequest('ledger', partition, 0), isolationLevel: 1 });
    expect(Number(answer.responses[0].partitions[0].highWatermark)).toBe(10);
  });
  leaderClient.close();

  await brokers.get(controller)!.kill();
  brokers.delete(controller);
  const survivor = [...brokers.values()][0];
  const newLeader = await eventually(async () => {
    const p = (await metadata(survivor)).topics[0].partitions.find((x) => x.partitionIndex === partition)!;
    expect(p.leaderId).not.toBe(controller);
    expect(brokers.has(p.leaderId)).toBe(true);
    return p.leaderId;
  });
  // `sluice cluster status` names the two live brokers and every ledger partition as
  // under-replicated (the killed broker left their ISR).
  const status = await eventually(async () => {
    const r = spawnSync(process.execPath, [SLUICE_BIN, 'cluster', 'status', '--bootstrap-server', survivor.bootstrap], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.match(/^ledger\s+\d+\s+\d+\s+[\d,]+\s+[\d,]+\s+under-replicated$/gm)).toHaveLength(3);
    return r.stdout;
  });
  expect(status).toMatch(new RegExp(`^Brokers: ${[...brokers.keys()].sort().join(', ')}$`, 'm'));
  expect(status).toMatch(/offline: 0$/m);

  const client = await RawClient.connect(brokers.get(newLeader)!.port);
  const answer = await eventually(async () => {
    const a = await client.request(1, 11, { ...fetchRequest('ledger', partition, 0), isolationLevel: 1 });
    const p = a.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    expect(Number(p.highWatermark)).toBe(10);
    return p;
  });
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
  await eventually(async () => expect(received.length).toBeGreaterThanOrEqual(5));
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  expect(received).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
}, 150_000);

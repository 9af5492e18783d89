// Cluster mode with secured replication: etcd and 3 brokers whose inter-broker listener is
// SASL_SSL (SCRAM-SHA-512, the brokers' own user in the cluster's etcd SCRAM store, trust from
// the listener's PEM trust store) next to a PLAINTEXT listener for clients. The brokers' SCRAM user is
// created through broker 1 after the brokers start and before any replicated topic exists (the
// followers' fetchers retry until it does). An RF=3 topic with min.insync.replicas=3 takes
// acks=-1 writes only once every follower fetched them over SASL_SSL; a leader killed with
// kill -9 fails over to a follower holding every acknowledged record. The same listener is
// reached by @sluice/client with TLS + SCRAM directly, and by the sluice CLI through
// --command-config (security.protocol=SASL_SSL, a PEM trust store, sasl.jaas.config).

import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { alterUserScramCredentials, BrokerConnection, KafkaClient } from '../packages/client/src/index.ts';
import { ApiKey } from '@sluice/protocol';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BrokerProcess } from './support/broker-process.ts';
import { createTopic, partitionsOf, TestCluster, topicMetadata } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';
import { produce, readPartition } from './support/requests.ts';
import { listenerPort, makeTestPki, type TestPki } from './support/tls-certs.ts';

const TOPIC = 'secured-replication';
const BROKER_USER = 'broker';
const BROKER_PASSWORD = 'broker-secret';
let pki: TestPki;
let cluster: TestCluster;
const broker = (nodeId: number) => cluster.broker(nodeId);
const WAIT = { timeoutMs: 15_000, intervalMs: 100 };

beforeAll(async () => {
  pki = makeTestPki();
  cluster = await TestCluster.start({
    prefix: '/interbroker',
    overrides: {
      listeners: 'PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,INTERNAL:SASL_SSL',
      'inter.broker.listener.name': 'INTERNAL',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
      'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
      'listener.name.internal.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_USER}" password="${BROKER_PASSWORD}";`,
      'listener.name.internal.ssl.keystore.type': 'PEM',
      'listener.name.internal.ssl.keystore.location': pki.serverPemFile,
      'listener.name.internal.ssl.truststore.type': 'PEM',
      'listener.name.internal.ssl.truststore.location': pki.caPem,
      'broker.session.timeout.ms': 3000,
      'replica.lag.time.max.ms': 5000,
    },
  });
  // The brokers' own SCRAM user, created through broker 1: every broker reads it from etcd.
  const admin = await KafkaClient.connect({ bootstrap: broker(1).bootstrap });
  try {
    const results = await alterUserScramCredentials(admin, {
      upsertions: [{ user: BROKER_USER, mechanism: 'SCRAM-SHA-512', iterations: 4096, password: BROKER_PASSWORD }],
      deletions: [],
    });
    expect(results).toEqual([{ user: BROKER_USER, errorCode: 0, errorMessage: null }]);
  } finally {
    admin.close();
  }
}, 40_000);

afterAll(async () => {
  await cluster?.stop();
  pki?.remove();
});

interface PartitionView {
  leader: number;
  leaderEpoch: number;
  isr: number[];
  liveBrokers: number[];
}

async function partitionView(broker: BrokerProcess): Promise<PartitionView> {
  const answer = await topicMetadata(broker, TOPIC);
  const p = partitionsOf(answer)[0]!;
  return { leader: p.leader, leaderEpoch: p.leaderEpoch, isr: p.isr, liveBrokers: answer.brokers.map((b) => b.nodeId).sort() };
}

test('@sluice/client reaches the SASL_SSL listener with TLS and SCRAM-SHA-512, and a wrong password is refused', async () => {
  const port = listenerPort(broker(2).output(), 'INTERNAL');
  const tls = { ca: readFileSync(pki.caPem, 'utf8') };
  const conn = await BrokerConnection.open('127.0.0.1', port, {
    clientId: 'it',
    connectTimeoutMs: 5000,
    requestTimeoutMs: 5000,
    tls,
    sasl: { mechanism: 'SCRAM-SHA-512', username: BROKER_USER, password: BROKER_PASSWORD },
  });
  try {
    const md = await conn.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false });
    expect(md.brokers.length).toBe(3);
  } finally {
    conn.close();
  }
  await expect(
    BrokerConnection.open('127.0.0.1', port, {
      clientId: 'it',
      connectTimeoutMs: 5000,
      requestTimeoutMs: 5000,
      tls,
      sasl: { mechanism: 'SCRAM-SHA-512', username: BROKER_USER, password: 'wrong' },
    }),
  ).rejects.toThrow(/SCRAM-SHA-512 authentication as broker failed/);
}, 20_000);

test('the sluice CLI reaches the SASL_SSL listener with --command-config', async () => {
  const port = listenerPort(broker(3).output(), 'INTERNAL');
  const config = join(pki.dir, 'client.properties');
  const run = (): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((done) => {
      const bin = resolve(import.meta.dirname, '..', 'packages', 'cli', 'bin', 'sluice.js');
      execFile(
        process.execPath,
        [bin, 'cluster', '--bootstrap-server', `127.0.0.1:${port}`, '--command-config', config],
        { timeout: 20_000 },
        (err, stdout, stderr) => done({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr }),
      );
    });
  const properties = (password: string) =>
    [
      'security.protocol=SASL_SSL',
      `ssl.truststore.location=${pki.caPem}`,
      'ssl.truststore.type=PEM',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${BROKER_USER}" password="${password}";`,
      '',
    ].join('\n');
  writeFileSync(config, properties(BROKER_PASSWORD));
  const ok = await run();
  expect(ok.code, ok.stderr).toBe(0);
  for (const id of [1, 2, 3]) expect(ok.stdout).toContain(String(id));
  writeFileSync(config, properties('wrong'));
  const refused = await run();
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toMatch(/SCRAM-SHA-512 authentication as broker failed/);
}, 30_000);

test('an RF=3 topic replicates over SASL_SSL: acks=-1 with min.insync.replicas=3, then a leader kill fails over', async () => {
  const created = await createTopic(broker(1), { name: TOPIC, partitions: 1, replicationFactor: 3, configs: { 'min.insync.replicas': '3' } });
  expect(created).toMatchObject({ errorCode: 0, replicationFactor: 3 });
  const before = await eventually(async () => {
    const v = await partitionView(broker(1));
    expect(v.isr).toEqual([1, 2, 3]);
    expect(v.leader).toBeGreaterThan(0);
    return v;
  }, WAIT);
  // acks=-1 with min.insync.replicas=3: answered only once both followers fetched the records
  // (over the SASL_SSL listener: there is no other between the brokers).
  const values = ['one', 'two', 'three'];
  const leaderClient = await RawClient.connect(broker(before.leader).port);
  try {
    for (const v of values) expect((await produce(leaderClient, TOPIC, 0, [v], -1)).errorCode).toBe(0);
    const onLeader = await readPartition(leaderClient, TOPIC, 0);
    expect(onLeader.records.map((r) => r.value)).toEqual(values);
    expect(onLeader.highWatermark).toBe(3);
  } finally {
    leaderClient.close();
  }
  expect((await partitionView(broker(before.leader))).isr).toEqual([1, 2, 3]);

  await cluster.kill(before.leader);
  const survivors = [1, 2, 3].filter((id) => id !== before.leader);
  const after = await eventually(async () => {
    const v = await partitionView(broker(survivors[0]));
    expect(v.liveBrokers).toEqual(survivors);
    expect(survivors).toContain(v.leader);
    expect(v.leaderEpoch).toBeGreaterThan(before.leaderEpoch);
    return v;
  }, WAIT);
  // The new leader (a follower until now) holds every acknowledged record: its log is the old leader's.
  const newLeader = await RawClient.connect(broker(after.leader).port);
  try {
    await eventually(
      async () => expect((await readPartition(newLeader, TOPIC, 0)).records.map((r) => [r.offset, r.value])).toEqual(values.map((v, i) => [i, v])),
      WAIT,
    );
  } finally {
    newLeader.close();
  }
}, 30_000);

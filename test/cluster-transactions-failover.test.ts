// The transaction coordinator moves with the leadership of its __transaction_state partition:
// on three brokers, the Java client's transactional producer runs transactions back to back (5
// records over the three partitions of an RF=3 topic, every fourth transaction aborted), so its
// markers go to leaders on every broker (WriteTxnMarkers between brokers). The broker hosting
// its coordinator is killed with SIGKILL, restarted, and later the next coordinator's broker is
// stopped gracefully (SIGTERM); each time the producer finds the new coordinator by itself and
// goes on committing. Then a read_committed consumer reads the topic: every committed
// transaction's records exactly once, nothing of an aborted one.

import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type ClientCommand, consumedRecords, ensureJavaClient, runClientOk } from './clients/support.ts';
import type { BrokerProcess } from './support/broker-process.ts';
import { partitionViews, TestCluster } from './support/cluster.ts';
import { eventually } from './support/eventually.ts';
import { RawClient } from './support/raw-client.ts';

const TOPIC = 'flow';
const TRANSACTIONAL_ID = 'flow-writer';
let java: ClientCommand;
let cluster: TestCluster;
const WAIT = { timeoutMs: 40_000, intervalMs: 200 };

beforeAll(async () => {
  java = ensureJavaClient();
  cluster = await TestCluster.start({
    prefix: '/txn-failover',
    overrides: {
      'broker.session.timeout.ms': 3000,
      'replica.lag.time.max.ms': 5000,
      'transaction.state.log.num.partitions': 5,
      'offsets.topic.num.partitions': 5,
    },
  });
}, 600_000);

afterAll(async () => {
  await cluster?.stop();
});

/** FindCoordinator (v3, key type 1) asked of `via`. */
async function transactionCoordinator(via: BrokerProcess): Promise<number> {
  const client = await RawClient.connect(via.port);
  try {
    const answer = await client.request(10, 3, { key: TRANSACTIONAL_ID, keyType: 1 });
    expect(answer.errorCode).toBe(0);
    return answer.nodeId;
  } finally {
    client.close();
  }
}

/** Every live broker names the same coordinator, a live one; returns it. */
async function agreedCoordinator(): Promise<number> {
  return eventually(async () => {
    const answers = await Promise.all(cluster.live().map((b) => transactionCoordinator(b)));
    expect(new Set(answers).size).toBe(1);
    expect(cluster.isLive(answers[0])).toBe(true);
    return answers[0];
  }, WAIT);
}

/** Restarts a stopped broker on its data dir and port; resolves once it is back in every ISR. */
async function restart(nodeId: number): Promise<void> {
  const restarted = await cluster.restart(nodeId);
  await eventually(async () => {
    for (const topic of [TOPIC, '__transaction_state']) for (const p of await partitionViews(restarted, topic)) expect(p.isr).toHaveLength(3);
  }, WAIT);
}

test('a transactional producer rides out kill -9 and a graceful stop of its coordinator; read_committed sees each committed transaction once', async () => {
  const kafka = new Kafka({ clientId: 'txn-failover', brokers: cluster.bootstrap(), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }],
    waitForLeaders: true,
  });
  await admin.disconnect();

  const stopFile = join(tmpdir(), `sluice-txn-loop-${process.pid}-${Date.now()}`);
  const proc = spawn(java.command, [...java.args, 'txn-loop', cluster.bootstrap().join(','), TOPIC, TRANSACTIONAL_ID, stopFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const events = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string; txn?: number; error?: string });
  const committed = () => events().filter((e) => e.event === 'committed').length;
  const moreCommitted = async (than: number, by = 5) =>
    eventually(
      async () => {
        expect(proc.exitCode, stderr).toBeNull();
        expect(committed()).toBeGreaterThanOrEqual(than + by);
      },
      { ...WAIT, timeoutMs: 60_000 },
    );

  try {
    await moreCommitted(0);
    // 1. SIGKILL the coordinator's broker; the producer finds the new one (another broker).
    const first = await agreedCoordinator();
    const before = committed();
    await cluster.kill(first);
    await moreCommitted(before);
    expect(await agreedCoordinator()).not.toBe(first);
    await restart(first);

    // 2. SIGTERM (controlled shutdown) the broker coordinating now.
    const second = await agreedCoordinator();
    const beforeStop = committed();
    expect(await cluster.stopBroker(second)).toBe(0);
    await moreCommitted(beforeStop);
    expect(await agreedCoordinator()).not.toBe(second);
    await restart(second);
    await moreCommitted(committed(), 2);
  } finally {
    writeFileSync(stopFile, '');
  }
  expect(await exited, stderr).toBe(0);
  rmSync(stopFile, { force: true });

  const outcome = new Map<number, string>();
  for (const e of events()) if (e.txn !== undefined) outcome.set(e.txn, e.event);
  const committedTxns = [...outcome].filter(([, o]) => o === 'committed').map(([t]) => t);
  const uncertain = [...outcome].filter(([, o]) => o === 'uncertain').map(([t]) => t);
  expect([...outcome.values()].filter((o) => o === 'aborted').length).toBeGreaterThan(0);

  const read = await runClientOk(java, [
    'consume',
    cluster.bootstrap().join(','),
    TOPIC,
    'flow-audit',
    String(committedTxns.length * 5),
    '60000',
    'read_committed',
  ]);
  const seen = new Map<string, number>();
  for (const r of consumedRecords(read)) seen.set(r.value, (seen.get(r.value) ?? 0) + 1);
  const values = (txn: number) => Array.from({ length: 5 }, (_, j) => `txn-${txn}-${j}`);
  // Every committed transaction exactly once.
  for (const txn of committedTxns) for (const v of values(txn)) expect(seen.get(v), v).toBe(1);
  // A transaction whose commit failed in the client is all or nothing.
  for (const txn of uncertain) expect(new Set(values(txn).map((v) => seen.get(v) ?? 0)).size, `txn ${txn}`).toBe(1);
  // Nothing else: no aborted transaction, nothing twice.
  const expected = new Set([...committedTxns, ...uncertain].flatMap(values));
  expect([...seen.keys()].filter((v) => !expected.has(v))).toEqual([]);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
}, 180_000);

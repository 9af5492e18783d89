// Transactions end to end against a real broker process.
//
// kafkajs 2.x: `producer.transaction()` commits one transaction and aborts another; a
// read_committed consumer (kafkajs' default) never sees an aborted record while a
// read_uncommitted one sees both; `sendOffsets` inside a transaction commits the group's offsets
// only when the transaction commits (an aborted one leaves them unchanged).
//
// Crash: with the markers held back (`sluice.test.fault.transaction.markers.hold`) EndTxn
// answers once PrepareCommit/PrepareAbort is durable and no marker lands; kill -9 there, restart
// without the fault: the coordinator's recovery writes the markers before it serves, a
// transaction left open is aborted at its timeout, and afterwards every transaction is fully
// committed or fully aborted — read_committed sees exactly the committed records and the last
// stable offset is back at the high watermark on every partition.

import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { ApiKey, buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

let broker: BrokerProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await broker?.kill();
  broker = undefined;
  if (dataDir !== undefined) removeDir(dataDir);
  dataDir = undefined;
});

const SLUICE_BIN = join(resolve(import.meta.dirname, '..'), 'packages', 'cli', 'bin', 'sluice.js');

/** `sluice <args> --bootstrap-server <bootstrap>`: its stdout (fails the test on a non-zero exit). */
function sluice(bootstrap: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [SLUICE_BIN, ...args, '--bootstrap-server', bootstrap], { timeout: 30_000 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${err.message}\n${stderr}`)) : done(stdout),
    );
  });
}

const SMALL = { 'transaction.state.log.num.partitions': 4, 'offsets.topic.num.partitions': 4 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function kafkaFor(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'sluice-txn-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100 } });
}

/** Every value a consumer of `topic` reads until `expected` arrived and then 1.5 s more. */
async function readAll(kafka: Kafka, topic: string, groupId: string, readUncommitted: boolean, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, readUncommitted, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value?.toString() ?? '') });
  const deadline = Date.now() + 30_000;
  while (values.length < expected && Date.now() < deadline) await sleep(100);
  await sleep(1_500);
  await consumer.disconnect();
  return values;
}

describe('kafkajs transactions', () => {
  test('commit and abort; read_committed never sees aborted records; sendOffsets commits with the transaction', { timeout: 90_000 }, async () => {
    dataDir = tempDataDir('sluice-txn-');
    broker = await startBroker({ dataDir, overrides: SMALL });
    const kafka = kafkaFor(broker.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'tx-out', numPartitions: 2 },
        { topic: 'tx-in', numPartitions: 1 },
      ],
    });

    const producer = kafka.producer({ transactionalId: 'kjs-tx', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: 'tx-out', messages: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `committed-${i}` })) });
    await committed.sendOffsets({ consumerGroupId: 'kjs-ctp', topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '3' }] }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'tx-out', messages: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `aborted-${i}` })) });
    await aborted.sendOffsets({ consumerGroupId: 'kjs-ctp', topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '9' }] }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic: 'tx-out', messages: [{ key: 'k0', value: 'committed-last' }] });
    await last.commit();
    await producer.disconnect();

    const readCommitted = await readAll(kafka, 'tx-out', 'rc', false, 7);
    expect(readCommitted.sort()).toEqual([...Array.from({ length: 6 }, (_, i) => `committed-${i}`), 'committed-last'].sort());
    // The aborted records are in the log: a read_uncommitted consumer sees them.
    const readUncommitted = await readAll(kafka, 'tx-out', 'ru', true, 13);
    expect(readUncommitted.filter((v) => v.startsWith('aborted-'))).toHaveLength(6);

    const offsets = await admin.fetchOffsets({ groupId: 'kjs-ctp', topics: ['tx-in'] });
    expect(offsets[0].partitions).toEqual([expect.objectContaining({ partition: 0, offset: '3' })]);
    const described = await describeTransaction(broker.port, 'kjs-tx');
    expect(described.transactionState).toBe('CompleteCommit');
    await admin.disconnect();

    // The coordinator's metrics: two commits, one abort, nothing open any more.
    const metrics = await (await fetch(broker.metricsUrl!)).text();
    expect(metrics).toMatch(/^sluice_transactions_completed_total\{result="commit"\} 2$/m);
    expect(metrics).toMatch(/^sluice_transactions_completed_total\{result="abort"\} 1$/m);
    expect(metrics).toMatch(/^sluice_transactions_begun_total 3$/m);
    expect(metrics).toMatch(/^sluice_transactions_open 0$/m);

    // The CLI, like kafka-transactions.sh.
    const listed = await sluice(broker.bootstrap, ['transactions', 'list']);
    expect(listed).toMatch(/^TransactionalId\s+Coordinator\s+ProducerId\s+TransactionState/);
    expect(listed).toMatch(/kjs-tx\s+1\s+\d+\s+CompleteCommit/);
    const describedCli = await sluice(broker.bootstrap, ['transactions', 'describe', '--transactional-id', 'kjs-tx']);
    expect(describedCli).toMatch(/1\s+kjs-tx\s+\d+\s+0\s+CompleteCommit\s+\d+/);
    const producers = await sluice(broker.bootstrap, ['transactions', 'describe-producers', '--topic', 'tx-out', '--partition', '0']);
    expect(producers).toMatch(/^ProducerId\s+ProducerEpoch\s+LatestCoordinatorEpoch/);
    expect(producers.trim().split('\n')).toHaveLength(2);
  });
});

/** A port nobody listens on now, so a restarted broker can bind the same one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

async function describeTransaction(port: number, transactionalId: string): Promise<{ errorCode: number; transactionState: string }> {
  const client = await RawClient.connect(port);
  try {
    const answer = await client.request(ApiKey.DescribeTransactions, 0, { transactionalIds: [transactionalId] });
    return answer.transactionStates[0];
  } finally {
    client.close();
  }
}

interface Txn {
  readonly id: string;
  readonly producerId: number;
  readonly producerEpoch: number;
}

/** InitProducerId, AddPartitionsToTxn (both partitions), one transactional batch per partition. */
async function openTransaction(client: RawClient, id: string, timeoutMs: number, topic: string, values: string[]): Promise<Txn> {
  let init: { errorCode: number; producerId: number; producerEpoch: number };
  do {
    init = await client.request(ApiKey.InitProducerId, 4, { transactionalId: id, transactionTimeoutMs: timeoutMs, producerId: -1, producerEpoch: -1 });
    if (init.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || init.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS) await sleep(100);
  } while (init.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || init.errorCode === ErrorCode.CONCURRENT_TRANSACTIONS);
  expect(init.errorCode).toBe(ErrorCode.NONE);
  const txn = { id, producerId: init.producerId, producerEpoch: init.producerEpoch };
  const added = await client.request(ApiKey.AddPartitionsToTxn, 3, {
    v3AndBelowTransactionalId: id,
    v3AndBelowProducerId: txn.producerId,
    v3AndBelowProducerEpoch: txn.producerEpoch,
    v3AndBelowTopics: [{ name: topic, partitions: [0, 1] }],
  });
  expect(added.resultsByTopicV3AndBelow[0].resultsByPartition.map((p: { partitionErrorCode: number }) => p.partitionErrorCode)).toEqual([0, 0]);
  for (const partition of [0, 1]) {
    const records = buildRecordBatch({
      records: values.map((v) => ({ key: null, value: new TextEncoder().encode(`${v}-p${partition}`) })),
      producerId: txn.producerId,
      producerEpoch: txn.producerEpoch,
      baseSequence: 0,
      transactional: true,
    });
    const produced = await client.request(ApiKey.Produce, 11, {
      transactionalId: id,
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
    });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
  }
  return txn;
}

async function offsetsOf(client: RawClient, topic: string, isolationLevel: number): Promise<number[]> {
  const answer = await client.request(ApiKey.ListOffsets, 7, {
    replicaId: -1,
    isolationLevel,
    topics: [{ name: topic, partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1 })) }],
  });
  return answer.topics[0].partitions.map((p: { offset: number }) => p.offset);
}

describe('crash between EndTxn and the markers', () => {
  test('kill -9 after EndTxn answered, markers not written: after restart every transaction is fully committed or aborted', { timeout: 90_000 }, async () => {
    dataDir = tempDataDir('sluice-txn-crash-');
    const port = await freePort();
    const settings = { ...SMALL, 'sluice.flush.on.ack.enable': true };
    broker = await startBroker({ dataDir, port, overrides: { ...settings, 'sluice.test.fault.transaction.markers.hold': true } });
    const kafka = kafkaFor(broker.bootstrap);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'crash-tx', numPartitions: 2 }] });
    await admin.disconnect();

    const client = await RawClient.connect(port);
    const commit = await openTransaction(client, 'crash-commit', 60_000, 'crash-tx', ['c1', 'c2']);
    const abort = await openTransaction(client, 'crash-abort', 60_000, 'crash-tx', ['a1', 'a2']);
    // Left open: aborted by the coordinator at its timeout after the restart.
    await openTransaction(client, 'crash-open', 2_000, 'crash-tx', ['o1']);
    for (const [txn, committed] of [
      [commit, true],
      [abort, false],
    ] as const) {
      const ended = await client.request(ApiKey.EndTxn, 3, {
        transactionalId: txn.id,
        producerId: txn.producerId,
        producerEpoch: txn.producerEpoch,
        committed,
      });
      expect(ended.errorCode).toBe(ErrorCode.NONE);
    }
    // No marker has landed: the LSO is held at the first transaction's first offset.
    expect(await offsetsOf(client, 'crash-tx', 1)).toEqual([0, 0]);
    expect(await describeTransaction(port, 'crash-commit')).toMatchObject({ transactionState: 'PrepareCommit' });
    client.close();
    await broker.kill();

    broker = await startBroker({ dataDir, port, overrides: { ...settings, 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 300 } });
    const states = async () =>
      Promise.all(['crash-commit', 'crash-abort', 'crash-open'].map(async (id) => (await describeTransaction(port, id)).transactionState));
    const deadline = Date.now() + 30_000;
    let seen = await states();
    while (seen.join() !== 'CompleteCommit,CompleteAbort,CompleteAbort' && Date.now() < deadline) {
      await sleep(200);
      seen = await states();
    }
    expect(seen).toEqual(['CompleteCommit', 'CompleteAbort', 'CompleteAbort']);
    const after = await RawClient.connect(port);
    expect(await offsetsOf(after, 'crash-tx', 1)).toEqual(await offsetsOf(after, 'crash-tx', 0));
    after.close();
    const values = await readAll(kafkaFor(broker.bootstrap), 'crash-tx', 'crash-reader', false, 4);
    expect(values.sort()).toEqual(['c1-p0', 'c1-p1', 'c2-p0', 'c2-p1']);
  });
});

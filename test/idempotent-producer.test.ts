// Idempotent producers against a real broker process. kcat (`-X enable.idempotence=true`) and
// kafkajs (`idempotent: true`) keep producing while the broker is stopped (SIGTERM) or killed
// (SIGKILL) and started again on the same data dir and port; then every record is read back with
// kcat: each exactly once, in order, with no gap in the offsets, and neither client reports a
// sequence error (a restart that lost or garbled the producer state would show as duplicates or
// as a storm of OUT_OF_ORDER_SEQUENCE_NUMBER). Acks wait for an fsync
// (`sluice.flush.on.ack.enable`), which keeps requests in flight longer when the broker dies.
// A raw-protocol test pins the answers themselves, before and after each kind of restart: the
// same batch twice gets the same base offset with one copy stored, and a sequence gap gets
// OUT_OF_ORDER_SEQUENCE_NUMBER.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { ApiKey, buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { afterEach, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';
import { RawClient } from './support/raw-client.ts';

type Stop = 'SIGTERM' | 'SIGKILL';

/** What a client printed that would mean the broker broke idempotence. */
const SEQUENCE_TROUBLE = /out.of.order|OUT_OF_ORDER|sequence|DUPLICATE_SEQUENCE|UNKNOWN_PRODUCER|INVALID_PRODUCER_EPOCH|fatal|Delivery failed/i;

const BROKER_SETTINGS = { 'sluice.flush.on.ack.enable': true };

let broker: BrokerProcess | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await broker?.kill();
  broker = undefined;
  if (dataDir !== undefined) removeDir(dataDir);
  dataDir = undefined;
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

async function startOnFixedPort(): Promise<{ port: number; bootstrap: string }> {
  requireKcat();
  dataDir = tempDataDir('sluice-idempotence-');
  const port = await freePort();
  broker = await startBroker({ dataDir, port, overrides: BROKER_SETTINGS });
  return { port, bootstrap: broker.bootstrap };
}

/** Stops the broker the given way and starts it again on the same dir and port. */
async function restart(stop: Stop, port: number): Promise<void> {
  if (stop === 'SIGTERM') expect(await broker!.stop()).toBe(0);
  else await broker!.kill();
  broker = await startBroker({ dataDir, port, overrides: BROKER_SETTINGS });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Reads the single-partition topic back: every value once, in production order, offsets 0..n-1. */
async function expectExactlyOnce(bootstrap: string, topic: string, count: number): Promise<void> {
  const consumed = await kcat(['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%p %o %s\n'], undefined, 120_000);
  expect(consumed.code).toBe(0);
  const rows = consumed.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' '));
  expect(rows.map(([p]) => p).every((p) => p === '0')).toBe(true);
  expect(rows.map(([, o]) => Number(o))).toEqual(Array.from({ length: rows.length }, (_, i) => i));
  expect(rows.map(([, , v]) => v)).toEqual(Array.from({ length: count }, (_, i) => `v-${i}`));
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('through a broker restart (%s)', (stop) => {
  test('kcat -X enable.idempotence=true: no duplicates, no gaps, no sequence errors', async () => {
    const { port, bootstrap } = await startOnFixedPort();
    const topic = `idem-kcat-${stop.toLowerCase()}`;
    const COUNT = 20_000;
    const producer: ChildProcess = spawn(
      'kcat',
      [
        '-b',
        bootstrap,
        '-P',
        '-E',
        '-t',
        topic,
        '-X',
        'enable.idempotence=true',
        '-X',
        'linger.ms=2',
        '-X',
        'batch.num.messages=200',
        '-X',
        'message.timeout.ms=120000',
        '-X',
        'reconnect.backoff.max.ms=500',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stderr = '';
    producer.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => producer.once('close', (code) => resolve(code)));
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < COUNT; i += 100) {
      // The restart runs while lines keep coming, so requests are in flight when it hits.
      if (i === COUNT / 4) restarted = restart(stop, port);
      producer.stdin!.write(Array.from({ length: 100 }, (_, k) => `v-${i + k}\n`).join(''));
      await sleep(5);
    }
    await restarted;
    producer.stdin!.end();
    expect(await exited, stderr).toBe(0);
    expect(stderr).not.toMatch(SEQUENCE_TROUBLE);
    await expectExactlyOnce(broker!.bootstrap, topic, COUNT);
  }, 240_000);

  test('kafkajs idempotent: true: no duplicates, no gaps, no sequence errors', async () => {
    const { port, bootstrap } = await startOnFixedPort();
    const topic = `idem-kafkajs-${stop.toLowerCase()}`;
    const logged: string[] = [];
    const logCreator = () => (entry: LogEntry) => {
      if (entry.level <= logLevel.WARN) logged.push(`${entry.namespace}: ${entry.log.message} ${JSON.stringify(entry.log)}`);
    };
    const kafka = new Kafka({
      clientId: 'idempotence-test',
      brokers: [bootstrap],
      logLevel: logLevel.WARN,
      logCreator,
      retry: { retries: 60, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    await producer.connect();
    const BATCHES = 120;
    const PER_BATCH = 50;
    let restarted: Promise<void> | undefined;
    for (let b = 0; b < BATCHES; b++) {
      if (b === BATCHES / 4) restarted = restart(stop, port);
      await producer.send({ topic, acks: -1, messages: Array.from({ length: PER_BATCH }, (_, k) => ({ value: `v-${b * PER_BATCH + k}` })) });
    }
    await restarted;
    await producer.disconnect();
    expect(logged.filter((line) => SEQUENCE_TROUBLE.test(line))).toEqual([]);
    await expectExactlyOnce(broker!.bootstrap, topic, BATCHES * PER_BATCH);
  }, 240_000);
});

describe.each(['SIGTERM', 'SIGKILL'] as const)('the Produce answers, across a restart (%s), raw protocol', (stop) => {
  test('a repeated batch gets its first base offset and is stored once; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER', async () => {
    const { port, bootstrap } = await startOnFixedPort();
    const topic = 'idem-raw';
    await kcat(['-b', bootstrap, '-L', '-t', topic]); // auto-creates it
    let client = await RawClient.connect(port);
    try {
      const init = await client.request(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      expect(init.errorCode).toBe(ErrorCode.NONE);
      const batch = (baseSequence: number, values: string[]) =>
        buildRecordBatch({
          records: values.map((value) => ({ key: null, value })),
          producerId: init.producerId,
          producerEpoch: init.producerEpoch,
          baseSequence,
        });
      const produce = async (records: Uint8Array) => {
        const response = await client.request(ApiKey.Produce, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 5_000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
        });
        return response.responses[0].partitionResponses[0];
      };
      expect(await produce(batch(0, ['a', 'b']))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
      expect(await produce(batch(2, ['c', 'd', 'e']))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2 });
      expect(await produce(batch(2, ['c', 'd', 'e']))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2 });
      expect((await produce(batch(9, ['z']))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);

      client.close();
      await restart(stop, port);
      client = await RawClient.connect(port);
      // The state came back (from the close snapshot, or rebuilt from the log after a kill).
      expect(await produce(batch(2, ['c', 'd', 'e']))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2 });
      expect(await produce(batch(0, ['a', 'b']))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
      expect((await produce(batch(9, ['z']))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      expect(await produce(batch(5, ['f']))).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 5 });
      const consumed = await kcat(['-b', broker!.bootstrap, '-C', '-t', topic, '-e', '-q', '-f', '%o %s\n']);
      expect(consumed.stdout).toBe('0 a\n1 b\n2 c\n3 d\n4 e\n5 f\n');
    } finally {
      client.close();
    }
  }, 120_000);
});

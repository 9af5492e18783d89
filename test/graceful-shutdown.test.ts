// Graceful shutdown under load, against a real broker process: SIGTERM while producers
// (acks=-1, flush-on-ack, pipelined) and a long-polling consumer are active. The broker stops
// reading new requests, answers the ones in flight (the parked fetch at once, the produces after
// their fsync), flushes, writes the clean-shutdown marker and exits 0; the restart recovers
// nothing. A produce the broker never answered must not be in the log either: every request it
// processed, it answered.

import { afterAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';
import { createTopic, fetchRequest, produce, readPartition } from './support/requests.ts';

const dataDir = tempDataDir();
let broker: BrokerProcess | undefined;

afterAll(async () => {
  await broker?.stop();
  removeDir(dataDir);
});

const overrides = { 'sluice.log.level': 'info', 'sluice.flush.on.ack.enable': true, 'sluice.metrics.listener': '', 'auto.create.topics.enable': false };

interface Sent {
  readonly partition: number;
  readonly values: string[];
  /** The answer, or null when the connection closed before one came. */
  outcome: { errorCode: number; baseOffset: number } | null;
}

function logLine(output: string, msg: string): Record<string, unknown> {
  const line = output.split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  if (line === undefined) throw new Error(`no "${msg}" line in:\n${output.slice(-3000)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

test('SIGTERM under load: in-flight requests answered, logs flushed, clean marker, and the restart scans nothing', { timeout: 60_000 }, async () => {
  broker = await startBroker({ dataDir, overrides });
  const admin = await RawClient.connect(broker.port);
  expect(await createTopic(admin, 'load', 3)).toBe(0);
  expect(await createTopic(admin, 'idle', 1)).toBe(0);

  // Producers: 4 connections, 4 requests in flight each, until their connection closes.
  const sent: Sent[] = [];
  let stopping = false;
  const producers = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(broker!.port)));
  const loops = producers.flatMap((client, p) =>
    [0, 1, 2, 3].map(async (w) => {
      for (let seq = 0; ; seq++) {
        const entry: Sent = { partition: (p + w + seq) % 3, values: [`p${p}.w${w}.s${seq}.a`, `p${p}.w${w}.s${seq}.b`], outcome: null };
        sent.push(entry);
        try {
          entry.outcome = await produce(client, 'load', entry.partition, entry.values);
        } catch {
          return; // connection closed: unanswered
        }
        if (stopping && entry.outcome.errorCode !== 0) return;
      }
    }),
  );
  // A consumer parked on a partition that gets no data (waits up to 20 s).
  const consumer = await RawClient.connect(broker.port);
  const parked = consumer.request(1, 11, { ...fetchRequest('idle', 0, 0, 20_000), minBytes: 1 << 30 }).then(
    (body) => ({ answered: true, errorCode: body.responses[0].partitions[0].errorCode as number, at: performance.now() }),
    () => ({ answered: false, errorCode: -1, at: performance.now() }),
  );
  await new Promise((r) => setTimeout(r, 1500));
  expect(sent.filter((s) => s.outcome?.errorCode === 0).length).toBeGreaterThan(50);

  stopping = true;
  const signalled = performance.now();
  const exitCode = await broker.stop();
  const stopMs = performance.now() - signalled;
  await Promise.all(loops);
  const fetchResult = await parked;
  const output = broker.output();
  expect(exitCode, output.slice(-3000)).toBe(0);
  // The parked fetch was answered (early, with nothing), not cut off, and did not hold the stop.
  expect(fetchResult).toMatchObject({ answered: true, errorCode: 0 });
  expect(stopMs).toBeLessThan(5000);
  const stopped = logLine(output, 'sluice broker stopped');
  expect(stopped).toMatchObject({ unanswered: 0, drainTimedOut: false });
  process.stdout.write(`graceful stop: ${JSON.stringify(stopped)}; ${sent.length} produce requests sent\n`);

  // Restart: clean, nothing to recover; every acknowledged record there; nothing unanswered there.
  broker = await startBroker({ dataDir, overrides });
  await expect.poll(() => broker!.output().includes('"msg":"logs loaded"')).toBe(true);
  expect(logLine(broker.output(), 'logs loaded')).toMatchObject({ partitionsRecovered: 0, segmentsRecovered: 0 });
  const reader = await RawClient.connect(broker.port);
  const stored = new Map<string, { partition: number; offset: number }>();
  for (let p = 0; p < 3; p++) {
    for (const r of (await readPartition(reader, 'load', p)).records) stored.set(r.value!, { partition: p, offset: r.offset });
  }
  let acked = 0;
  for (const s of sent) {
    if (s.outcome === null) {
      for (const v of s.values) expect(stored.has(v), `unanswered ${v} is in the log: the broker processed it without answering`).toBe(false);
    } else if (s.outcome.errorCode === 0) {
      acked++;
      s.values.forEach((v, i) => expect(stored.get(v)).toEqual({ partition: s.partition, offset: s.outcome!.baseOffset + i }));
    }
  }
  expect(acked).toBeGreaterThan(50);
  for (const c of [admin, consumer, reader, ...producers]) c.close();
});

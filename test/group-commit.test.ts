// Group commit end to end: with sluice.flush.on.ack.enable, concurrent acks=-1 produce requests
// to one partition share fdatasyncs, so the broker's flush count (its own metric,
// sluice_log_flush_duration_seconds_count) stays far below the number of requests; one request at
// a time needs about one flush each. Both see every acknowledged record durable (test/crash
// kills the broker under this setting).

import { afterEach, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';
import { createTopic, produce } from './support/requests.ts';

let broker: BrokerProcess | undefined;

afterEach(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
  broker = undefined;
});

async function flushCount(b: BrokerProcess): Promise<number> {
  await expect.poll(() => /"msg":"metrics endpoint listening"/.test(b.output())).toBe(true);
  const line = b
    .output()
    .split('\n')
    .find((l) => l.includes('"msg":"metrics endpoint listening"'))!;
  const url = (JSON.parse(line) as { url: string }).url;
  const text = await (await fetch(url)).text();
  const m = /^sluice_log_flush_duration_seconds_count (\d+)/m.exec(text);
  if (m === null) throw new Error(`no flush count in the scrape:\n${text.slice(0, 2000)}`);
  return Number(m[1]);
}

async function run(connections: number, window: number, requestsPerLoop: number): Promise<{ requests: number; flushes: number }> {
  broker = await startBroker({
    overrides: {
      'sluice.flush.on.ack.enable': true,
      'sluice.log.level': 'info',
      'sluice.metrics.listener': 'http://127.0.0.1:0/metrics',
      'auto.create.topics.enable': false,
    },
  });
  const admin = await RawClient.connect(broker.port);
  expect(await createTopic(admin, 'gc', 1)).toBe(0);
  const before = await flushCount(broker);
  const clients = await Promise.all(Array.from({ length: connections }, () => RawClient.connect(broker!.port)));
  let requests = 0;
  await Promise.all(
    clients.flatMap((client, c) =>
      Array.from({ length: window }, async (_, w) => {
        for (let i = 0; i < requestsPerLoop; i++) {
          const out = await produce(client, 'gc', 0, [`c${c}.w${w}.${i}`]);
          expect(out.errorCode).toBe(0);
          requests++;
        }
      }),
    ),
  );
  const flushes = (await flushCount(broker)) - before;
  for (const c of [admin, ...clients]) c.close();
  await broker.stop();
  removeDir(broker.dataDir);
  broker = undefined;
  return { requests, flushes };
}

test('concurrent acks=-1 requests share fsyncs; one at a time needs one each', { timeout: 120_000 }, async () => {
  const alone = await run(1, 1, 100);
  const together = await run(16, 4, 25);
  process.stdout.write(
    `group commit: one at a time ${alone.requests} requests / ${alone.flushes} flushes; 64 in flight ${together.requests} requests / ${together.flushes} flushes\n`,
  );
  expect(alone.flushes).toBeGreaterThanOrEqual(alone.requests);
  expect(together.requests).toBe(1600);
  expect(together.flushes).toBeLessThan(together.requests / 4);
});

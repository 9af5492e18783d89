import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { buildRecordBatch } from '@sluice/protocol';
import { Broker } from './broker.ts';
import { silentLogger } from './logger.ts';

let broker: Broker | undefined;
let dir: string | undefined;
afterEach(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the log flusher fsyncs partitions older than flush.ms (default: the scheduler interval, as Kafka)', async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-flusher-'));
  broker = await new Broker(
    { listeners: 'PLAINTEXT://127.0.0.1:0', 'log.dirs': dir, 'log.flush.scheduler.interval.ms': 50, 'sluice.metrics.listener': '' },
    silentLogger,
  ).start();
  const ctx = broker.broker;
  const timed = ctx.topicCreator.create('timed', 1, 1, [{ name: 'flush.ms', value: '100' }], false).topic!;
  const untimed = ctx.topicCreator.create('untimed', 1, 1, [{ name: 'flush.ms', value: '9223372036854775807' }], false).topic!;
  const defaulted = ctx.topicCreator.create('defaulted', 1, 1, [], false).topic!;
  for (const t of [timed, untimed, defaulted]) {
    t.partitions[0].log.append(buildRecordBatch({ records: [{ key: 'k', value: 'v', timestamp: 1 }] }), Date.now());
  }
  const deadline = Date.now() + 5000;
  const flushed = () => timed.partitions[0].log.recoveryPoint === 1 && defaulted.partitions[0].log.recoveryPoint === 1;
  while (!flushed() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  expect(timed.partitions[0].log.recoveryPoint).toBe(1);
  expect(defaulted.partitions[0].log.recoveryPoint).toBe(1); // flush.ms defaults to the scheduler interval
  expect(untimed.partitions[0].log.recoveryPoint).toBe(0); // Long.MAX: never
});

// Restart: produce, stop (SIGTERM), start on the same data dir, consume — offsets and data
// unchanged, topics still there.

import { afterAll, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { kcat, requireKcat } from './support/kcat.ts';

const dataDir = tempDataDir();
let broker: BrokerProcess | undefined;

afterAll(async () => {
  await broker?.stop();
  removeDir(dataDir);
});

test('data, offsets and topics survive a clean restart', async () => {
  requireKcat();
  broker = await startBroker({ dataDir, overrides: { 'num.partitions': 2 } });
  const lines = Array.from({ length: 2000 }, (_, i) => `k${i % 7}:v${i}`);
  const produced = await kcat(['-b', broker.bootstrap, '-P', '-t', 'durable', '-K:'], lines.join('\n') + '\n');
  expect(produced.code).toBe(0);
  const before = await kcat(['-b', broker.bootstrap, '-C', '-t', 'durable', '-e', '-q', '-f', '%p %o %k %s\n']);
  expect(await broker.stop()).toBe(0);

  broker = await startBroker({ dataDir });
  const md = JSON.parse((await kcat(['-b', broker.bootstrap, '-L', '-J', '-t', 'durable'])).stdout);
  expect(md.topics[0].partitions).toHaveLength(2);
  const after = await kcat(['-b', broker.bootstrap, '-C', '-t', 'durable', '-e', '-q', '-f', '%p %o %k %s\n']);
  const sort = (s: string) => s.trim().split('\n').sort();
  expect(sort(after.stdout)).toEqual(sort(before.stdout));
  expect(sort(after.stdout)).toHaveLength(2000);

  // Appends continue after the last offset, not over it.
  await kcat(['-b', broker.bootstrap, '-P', '-t', 'durable', '-p', '0'], 'after-restart\n');
  const tail = await kcat(['-b', broker.bootstrap, '-C', '-t', 'durable', '-p', '0', '-o', '-1', '-e', '-q', '-f', '%o %s\n']);
  const p0count = before.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('0 ')).length;
  expect(tail.stdout.trim()).toBe(`${p0count} after-restart`);
});

test('a second broker on the same log dir fails to start and the first keeps serving', async () => {
  requireKcat();
  const shared = tempDataDir();
  const first = await startBroker({ dataDir: shared });
  try {
    await kcat(['-b', first.bootstrap, '-P', '-t', 'locked', '-p', '0'], 'before\n');
    const second = await startBroker({ dataDir: shared }).then(
      async (b) => {
        await b.stop();
        return null;
      },
      (err: Error) => err,
    );
    expect(second?.message).toContain(`another broker is using log dir ${shared}`);
    await kcat(['-b', first.bootstrap, '-P', '-t', 'locked', '-p', '0'], 'after\n');
    const all = await kcat(['-b', first.bootstrap, '-C', '-t', 'locked', '-p', '0', '-e', '-q', '-f', '%o %s\n']);
    expect(all.stdout.trim().split('\n')).toEqual(['0 before', '1 after']);
  } finally {
    expect(await first.stop()).toBe(0);
    removeDir(shared);
  }
});

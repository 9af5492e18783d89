// Disk errors against real broker processes. One partition's log dir fails; the client sees
// KAFKA_STORAGE_ERROR (56) for that partition only, every other partition and topic keeps
// working, the process stays up, and everything acknowledged before is intact — after space is
// freed and after a restart.
//
// - ENOSPC at append: a real 6 MiB tmpfs as the second log dir (fallocate/pwrite refuse at once;
//   the log writes nothing, and the partition works again once there is room).
// - ENOSPC/EIO at fsync: ext4 on a loop device over a small tmpfs, so writeback fails late, at
//   the fdatasync of a flush-on-ack produce. The answer is 56 (nothing unsynced is acknowledged)
//   and the partition goes offline until a restart recovers it.
// - EIO on write, fsync and read: real file systems will not fail with EIO on demand, so this
//   uses the broker's test-only `sluice.test.fault.storage` knob (the fault-injecting storage).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { ErrorCode } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker, tempDataDir } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';
import { createTopic, produce, readPartition } from './support/requests.ts';
import { LateFailingExt4, SmallTmpfs } from './support/small-disk.ts';

const MiB = 1024 * 1024;
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(dataDir: string, overrides: Record<string, string | number | boolean>): Promise<{ broker: BrokerProcess; client: RawClient }> {
  const broker = await startBroker({ dataDir, overrides: { 'sluice.metrics.listener': '', 'auto.create.topics.enable': false, ...overrides } });
  const client = await RawClient.connect(broker.port);
  cleanups.push(async () => {
    client.close();
    await broker.stop();
  });
  return { broker, client };
}

/** Acknowledged values in order; a produce that fails is remembered with its code. */
class Ledger {
  readonly acked: string[] = [];
  private n = 0;
  /** Replaced after a restart (`ledger.client = newClient`). */
  client: RawClient;
  private readonly topic: string;
  private readonly valueBytes: number;

  constructor(client: RawClient, topic: string, valueBytes: number) {
    this.client = client;
    this.topic = topic;
    this.valueBytes = valueBytes;
  }

  async produceOne(): Promise<number> {
    const value = `${this.topic}-${this.n++}-${'x'.repeat(this.valueBytes)}`;
    const out = await produce(this.client, this.topic, 0, [value]);
    if (out.errorCode === 0) this.acked.push(value);
    return out.errorCode;
  }

  /** Produces until a produce fails; returns its error code. */
  async produceUntilError(maxAttempts: number): Promise<number> {
    for (let i = 0; i < maxAttempts; i++) {
      const code = await this.produceOne();
      if (code !== 0) return code;
    }
    throw new Error(`${this.topic}: no error after ${maxAttempts} produces`);
  }
}

async function values(client: RawClient, topic: string): Promise<Array<string | null>> {
  const contents = await readPartition(client, topic, 0);
  expect(contents.errorCode).toBe(0);
  return contents.records.map((r) => r.value);
}

test.each(['mmap', 'pwrite'] as const)(
  'ENOSPC at append on a full tmpfs (%s): 56 for that partition, nothing torn, writable again once there is room',
  async (mode) => {
    const fast = tempDataDir();
    const small = new SmallTmpfs(6 * MiB);
    cleanups.push(
      () => small.close(),
      () => removeDir(fast),
    );
    const overrides = { 'log.dirs': `${fast},${small.dir}`, 'sluice.log.append.mode': mode, 'sluice.log.preallocate.step.bytes': 64 * 1024 };
    let { broker, client } = await start(fast, overrides);
    // New partitions go to the log dir holding the fewest: 'healthy' first, then 'full'.
    expect(await createTopic(client, 'healthy', 1)).toBe(0);
    expect(await createTopic(client, 'full', 1, { 'segment.bytes': String(MiB) })).toBe(0);
    expect(existsSync(join(small.dir, 'full-0'))).toBe(true);
    expect(existsSync(join(fast, 'healthy-0'))).toBe(true);

    const full = new Ledger(client, 'full', 60 * 1024);
    const healthy = new Ledger(client, 'healthy', 100);
    expect(await full.produceUntilError(200)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(full.acked.length).toBeGreaterThan(20);
    // Still full: still 56, and the process is up (no SIGBUS from a mapped write into a hole).
    expect(await full.produceOne()).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(broker.proc.exitCode).toBeNull();
    // The other topic is unaffected, and everything acknowledged reads back exactly.
    for (let i = 0; i < 20; i++) expect(await healthy.produceOne()).toBe(0);
    expect(await values(client, 'full')).toEqual(full.acked);
    expect(await values(client, 'healthy')).toEqual(healthy.acked);

    // Room again: the same partition takes appends, after the acknowledged ones.
    small.resize(64 * MiB);
    for (let i = 0; i < 5; i++) expect(await full.produceOne()).toBe(0);
    expect(await values(client, 'full')).toEqual(full.acked);

    // And all of it survives a restart.
    client.close();
    expect(await broker.stop()).toBe(0);
    ({ broker, client } = await start(fast, overrides));
    expect(await values(client, 'full')).toEqual(full.acked);
    expect(await values(client, 'healthy')).toEqual(healthy.acked);
  },
);

test('ENOSPC at fsync (writeback fails late, flush-on-ack): 56, nothing unsynced acknowledged, offline until a restart recovers it', async () => {
  const fast = tempDataDir();
  const disk = new LateFailingExt4(256 * MiB, 8 * MiB);
  cleanups.push(
    () => disk.close(),
    () => removeDir(fast),
  );
  const overrides = {
    'log.dirs': `${fast},${disk.dir}`,
    'sluice.flush.on.ack.enable': true,
    'sluice.log.append.mode': 'pwrite',
    'sluice.log.level': 'info',
  };
  let { broker, client } = await start(fast, overrides);
  expect(await createTopic(client, 'healthy', 1)).toBe(0);
  expect(await createTopic(client, 'late', 1, { 'segment.bytes': String(32 * MiB) })).toBe(0);
  expect(existsSync(join(disk.dir, 'late-0'))).toBe(true);

  const late = new Ledger(client, 'late', 200 * 1024);
  const healthy = new Ledger(client, 'healthy', 100);
  expect(await late.produceUntilError(200)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect(late.acked.length).toBeGreaterThan(5);
  // Offline now: answered 56 at once, for produce and fetch alike; other topics unaffected.
  expect(await late.produceOne()).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  expect((await readPartition(client, 'late', 0)).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
  for (let i = 0; i < 20; i++) expect(await healthy.produceOne()).toBe(0);
  expect(await values(client, 'healthy')).toEqual(healthy.acked);
  expect(broker.proc.exitCode).toBeNull();

  // Restart with room on the backing store: the partition is recovered (no clean-shutdown
  // marker), every acknowledged record is there in order, and it takes appends again.
  disk.growBacking(512 * MiB);
  client.close();
  expect(await broker.stop()).toBe(0);
  ({ broker, client } = await start(fast, overrides));
  await expect.poll(() => /"logs loaded"/.test(broker.output())).toBe(true);
  const loaded = JSON.parse(
    broker
      .output()
      .split('\n')
      .find((l) => l.includes('"logs loaded"'))!,
  );
  expect(loaded.partitionsRecovered).toBeGreaterThan(0);
  const recovered = await values(client, 'late');
  expect(recovered.slice(0, late.acked.length)).toEqual(late.acked);
  late.client = client;
  expect(await late.produceOne()).toBe(0);
  expect(await values(client, 'healthy')).toEqual(healthy.acked);
});

test.each(['mmap', 'pwrite'] as const)(
  'EIO on write, fsync and read (test fault knob, %s): 56 for that partition only, acknowledged data intact after restart',
  async (mode) => {
    const dir = tempDataDir();
    cleanups.push(() => removeDir(dir));
    const base = { 'sluice.flush.on.ack.enable': true, 'sluice.log.append.mode': mode };
    const faults = 'eio-write-0:write:5:EIO,eio-sync-0:sync:9:EIO,eio-read-0:read:2:EIO';
    let { broker, client } = await start(dir, { ...base, 'sluice.test.fault.storage': faults });
    const topics = ['healthy', 'eio-write', 'eio-sync', 'eio-read'];
    for (const t of topics) expect(await createTopic(client, t, 1)).toBe(0);
    const ledgers = new Map(topics.map((t) => [t, new Ledger(client, t, 500)]));

    // EIO while writing: 56, then offline (a failing disk is not trusted again until restart).
    expect(await ledgers.get('eio-write')!.produceUntilError(20)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await ledgers.get('eio-write')!.produceOne()).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    // EIO from fdatasync: that produce is not acknowledged; offline too.
    expect(await ledgers.get('eio-sync')!.produceUntilError(20)).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(await ledgers.get('eio-sync')!.produceOne()).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    expect((await readPartition(client, 'eio-sync', 0)).errorCode).toBe(ErrorCode.KAFKA_STORAGE_ERROR);
    // EIO while reading: that fetch answers 56; the data is fine and the next fetch reads it.
    for (let i = 0; i < 5; i++) expect(await ledgers.get('eio-read')!.produceOne()).toBe(0);
    const codes: number[] = [];
    while (codes.length < 10 && !(codes.includes(ErrorCode.KAFKA_STORAGE_ERROR) && codes.at(-1) === 0)) {
      codes.push((await readPartition(client, 'eio-read', 0)).errorCode);
    }
    expect(codes).toContain(ErrorCode.KAFKA_STORAGE_ERROR);
    expect(codes.at(-1)).toBe(0);
    expect(await values(client, 'eio-read')).toEqual(ledgers.get('eio-read')!.acked);
    // Unaffected meanwhile.
    for (let i = 0; i < 10; i++) expect(await ledgers.get('healthy')!.produceOne()).toBe(0);
    expect(await values(client, 'healthy')).toEqual(ledgers.get('healthy')!.acked);
    expect(broker.proc.exitCode).toBeNull();

    // Restart without faults: every acknowledged record of every topic is there, in order, and
    // the failed partitions take appends again.
    client.close();
    expect(await broker.stop()).toBe(0);
    ({ broker, client } = await start(dir, base));
    for (const [topic, ledger] of ledgers) {
      const stored = await values(client, topic);
      expect(stored.slice(0, ledger.acked.length), topic).toEqual(ledger.acked);
      ledger.client = client;
      expect(await ledger.produceOne(), topic).toBe(0);
    }
  },
);

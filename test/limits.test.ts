// Resource limits against real broker processes: socket.request.max.bytes, max.connections and
// max.connections.per.ip (as Kafka's ConnectionQuotas), queued.max.requests, memory with 1,000
// idle connections, and a consumer that never reads (its queued output is capped by
// sluice.connection.pending.max.bytes and reading from it pauses). Each case checks what the
// offending client sees and that a well-behaved client is served meanwhile.

import { connect, type Socket } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { buildRecordBatch, decodeResponse, encodeRequest, FrameReader } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';
import { createTopic, fetchRequest, produce, readPartition } from './support/requests.ts';
import { fdCount, rssBytes } from './support/process-stats.ts';

let broker: BrokerProcess | undefined;

afterEach(async () => {
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
  broker = undefined;
});

async function start(overrides: Record<string, string | number | boolean>): Promise<BrokerProcess> {
  broker = await startBroker({ overrides: { 'sluice.metrics.listener': '', ...overrides } });
  return broker;
}

const metadataBody = { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false };

/** A raw socket that records what comes back and whether the broker closed it. */
interface Probe {
  readonly socket: Socket;
  received(): Buffer;
  readonly closed: Promise<void>;
  isClosed(): boolean;
}

function probe(port: number, localAddress?: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closedFlag = false;
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const closed = new Promise<void>((r) =>
      socket.on('close', () => {
        closedFlag = true;
        r();
      }),
    );
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed, isClosed: () => closedFlag }));
    socket.once('error', reject);
  });
}

function apiVersionsFrame(correlationId: number): Uint8Array {
  return encodeRequest(18, 3, correlationId, 'limits', { clientSoftwareName: 'limits', clientSoftwareVersion: '1' });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (condition()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return condition();
}

/** Well-behaved traffic on its own connection: metadata round trips, counting answers. */
function goodClient(port: number, localAddress?: string) {
  let stop = false;
  let answered = 0;
  let maxLatency = 0;
  const done = (async () => {
    const client = await RawClient.connect(port, '127.0.0.1', localAddress);
    try {
      while (!stop) {
        const t = performance.now();
        const md = await client.request(3, 9, metadataBody);
        expect(md.brokers).toHaveLength(1);
        maxLatency = Math.max(maxLatency, performance.now() - t);
        answered++;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      client.close();
    }
  })();
  return {
    async finish() {
      stop = true;
      await done;
      return { answered, maxLatency };
    },
  };
}

test('socket.request.max.bytes: a larger frame closes that connection before its body is read', async () => {
  const b = await start({ 'socket.request.max.bytes': 64 * 1024 });
  const good = goodClient(b.port);
  const client = await RawClient.connect(b.port);
  await client.request(3, 9, metadataBody); // a request under the limit is served
  const big = await probe(b.port);
  const header = Buffer.alloc(4);
  header.writeInt32BE(64 * 1024 + 1, 0);
  big.socket.write(header);
  big.socket.write(Buffer.alloc(1024)); // the rest never needs to arrive
  await big.closed;
  expect(big.received().length).toBe(0);
  const exact = await probe(b.port);
  header.writeInt32BE(64 * 1024, 0);
  exact.socket.write(header); // exactly at the limit: not refused, the broker waits for the body
  await new Promise((r) => setTimeout(r, 200));
  expect(exact.isClosed()).toBe(false);
  exact.socket.destroy();
  expect((await client.request(3, 9, metadataBody)).brokers).toHaveLength(1);
  client.close();
  const { answered } = await good.finish();
  expect(answered).toBeGreaterThan(5);
});

test('max.connections.per.ip: the connection over the limit is closed at once; other addresses and existing connections go on', async () => {
  const b = await start({ 'max.connections.per.ip': 3 });
  const held = await Promise.all([0, 1, 2].map(() => probe(b.port)));
  for (const [i, p] of held.entries()) p.socket.write(apiVersionsFrame(i + 1));
  expect(await waitFor(() => held.every((p) => p.received().length > 0), 5000)).toBe(true);
  const refused = await probe(b.port);
  refused.socket.write(apiVersionsFrame(9));
  await refused.closed;
  expect(refused.received().length).toBe(0);
  // Another source address has its own count (loopback answers from any 127/8 address).
  const good = goodClient(b.port, '127.0.0.2');
  // The held connections still work, and a freed slot takes a new one.
  held[0].socket.write(apiVersionsFrame(20));
  expect(await waitFor(() => held[0].received().length > 100, 5000)).toBe(true);
  held[1].socket.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const admitted = await probe(b.port);
  admitted.socket.write(apiVersionsFrame(30));
  expect(await waitFor(() => admitted.received().length > 0, 5000)).toBe(true);
  for (const p of [...held, admitted]) p.socket.destroy();
  const { answered } = await good.finish();
  expect(answered).toBeGreaterThan(0);
});

test('max.connections: a connection past the limit waits unserved until one closes, as Kafka stops accepting', async () => {
  const b = await start({ 'max.connections': 3 });
  const held = await Promise.all([0, 1, 2].map(() => probe(b.port)));
  for (const [i, p] of held.entries()) p.socket.write(apiVersionsFrame(i + 1));
  expect(await waitFor(() => held.every((p) => p.received().length > 0), 5000)).toBe(true);
  const waiting = await probe(b.port); // the TCP handshake completes; the broker does not serve it
  waiting.socket.write(apiVersionsFrame(7));
  await new Promise((r) => setTimeout(r, 500));
  expect(waiting.received().length).toBe(0);
  expect(waiting.isClosed()).toBe(false);
  // The connections inside the limit are unaffected.
  held[2].socket.write(apiVersionsFrame(8));
  expect(await waitFor(() => held[2].received().length > 200, 5000)).toBe(true);
  held[0].socket.destroy();
  // The slot goes to the waiting connection, which is answered now.
  expect(await waitFor(() => waiting.received().length > 0, 5000)).toBe(true);
  const frames = new FrameReader(1 << 20);
  frames.push(waiting.received());
  expect(decodeResponse(18, 3, frames.next()!).correlationId).toBe(7);
  for (const p of [...held, waiting]) p.socket.destroy();
});

test('queued.max.requests: requests past the limit are not even read until earlier ones are answered', async () => {
  const b = await start({ 'queued.max.requests': 3, 'auto.create.topics.enable': false });
  const admin = await RawClient.connect(b.port);
  expect(await createTopic(admin, 'queued', 1)).toBe(0);
  // Three fetches that park for 1.5 s, then a produce, pipelined on one connection.
  const pipelined = await probe(b.port);
  const frames = [0, 1, 2].map((i) => encodeRequest(1, 11, i + 1, 'queued', fetchRequest('queued', 0, 0, 1500)));
  const records = buildRecordBatch({ records: [{ key: null, value: 'behind the fetches' }] });
  frames.push(
    encodeRequest(0, 9, 4, 'queued', {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: 'queued', partitionData: [{ index: 0, records }] }],
    }),
  );
  const sent = performance.now();
  pipelined.socket.write(Buffer.concat(frames));
  // While the three fetches fill the connection's queue, the produce is not dispatched: another
  // client sees nothing appended.
  await new Promise((r) => setTimeout(r, 700));
  expect((await readPartition(admin, 'queued', 0)).highWatermark).toBe(0);
  // Once they answer (after their 1.5 s wait), it is.
  expect(await waitFor(() => pipelined.received().length > 0, 5000)).toBe(true);
  expect(performance.now() - sent).toBeGreaterThan(1200);
  const after = await readPartition(admin, 'queued', 0);
  expect(after.records.map((r) => r.value)).toEqual(['behind the fetches']);
  // All four answers arrive, in request order.
  expect(
    await waitFor(() => {
      const reader = new FrameReader(1 << 20);
      reader.push(pipelined.received());
      let n = 0;
      while (reader.next() !== null) n++;
      return n === 4;
    }, 5000),
  ).toBe(true);
  const reader = new FrameReader(1 << 20);
  reader.push(pipelined.received());
  const ids = [0, 1, 2, 3].map(() => {
    const f = reader.next()!;
    return new DataView(f.buffer, f.byteOffset, f.byteLength).getInt32(0);
  });
  expect(ids).toEqual([1, 2, 3, 4]);
  pipelined.socket.destroy();
  admin.close();
});

test('1,000 idle connections cost little memory and two fds each; the broker keeps serving', { timeout: 120_000 }, async () => {
  const b = await start({});
  const pid = b.proc.pid!;
  const warm = await RawClient.connect(b.port);
  await warm.request(3, 9, metadataBody);
  await new Promise((r) => setTimeout(r, 200));
  const rssBefore = rssBytes(pid);
  const fdsBefore = fdCount(pid);
  const idle: Probe[] = [];
  for (let i = 0; i < 1000; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, () => probe(b.port)));
    // One request each, so every connection is registered and has been served once.
    for (const [j, p] of batch.entries()) p.socket.write(apiVersionsFrame(i + j + 1));
    idle.push(...batch);
  }
  expect(await waitFor(() => idle.every((p) => p.received().length > 0), 30_000)).toBe(true);
  const good = goodClient(b.port);
  await new Promise((r) => setTimeout(r, 500));
  const rssWith = rssBytes(pid);
  const fdsWith = fdCount(pid);
  const { answered, maxLatency } = await good.finish();
  process.stdout.write(`1000 idle connections: RSS +${((rssWith - rssBefore) / 2 ** 20).toFixed(1)} MiB, fds ${fdsBefore} -> ${fdsWith}\n`);
  // Two fds per connection: Node's socket and the writer's dup.
  expect(fdsWith - fdsBefore).toBeGreaterThanOrEqual(2000);
  expect(fdsWith - fdsBefore).toBeLessThanOrEqual(2010);
  expect(rssWith - rssBefore).toBeLessThan(64 * 1024 * 1024);
  expect(answered).toBeGreaterThan(10);
  expect(maxLatency).toBeLessThan(2000);
  for (const p of idle) p.socket.destroy();
  expect(await waitFor(() => fdCount(pid) <= fdsBefore + 2, 10_000)).toBe(true);
  warm.close();
});

test('a consumer that never reads: its queued output is capped, reading from it pauses, RSS stays bounded', { timeout: 120_000 }, async () => {
  const pendingMax = 256 * 1024;
  const b = await start({ 'sluice.connection.pending.max.bytes': pendingMax, 'auto.create.topics.enable': false });
  const pid = b.proc.pid!;
  const admin = await RawClient.connect(b.port);
  expect(await createTopic(admin, 'big', 1)).toBe(0);
  const value = 'v'.repeat(16 * 1024);
  for (let i = 0; i < 64; i++) {
    const out = await produce(
      admin,
      'big',
      0,
      Array.from({ length: 4 }, (_, j) => `${i}-${j}-${value}`),
    );
    expect(out.errorCode).toBe(0);
  }
  await new Promise((r) => setTimeout(r, 300));
  const rssBefore = rssBytes(pid);
  // 1,500 fetches of 128 KiB each, every request padded to ~30 KiB (a long rackId) so that
  // together they are far more than the kernel's socket buffers hold (~45 MiB), written as fast
  // as the socket takes them while nothing is read; answers are counted once it resumes.
  const rackId = 'r'.repeat(30 * 1024);
  const requests = Array.from({ length: 1500 }, (_, i) => encodeRequest(1, 11, i + 1, 'stalled', { ...fetchRequest('big', 0, 0, 0, 128 * 1024), rackId }));
  const reader = new FrameReader(4 * 1024 * 1024);
  let answers = 0;
  const problems: string[] = [];
  const stalled = connect({ port: b.port, host: '127.0.0.1' });
  await new Promise((r) => stalled.once('connect', r));
  stalled.pause();
  stalled.on('data', (d: Buffer) => {
    reader.push(d);
    for (let f = reader.next(); f !== null; f = reader.next()) {
      const { correlationId, body } = decodeResponse(1, 11, f);
      if (correlationId !== answers + 1) problems.push(`answer ${correlationId} after ${answers}`);
      if (body.responses[0].partitions[0].errorCode !== 0) problems.push(`answer ${correlationId}: error`);
      answers++;
    }
  });
  stalled.pause();
  let written = 0;
  const writer = (async () => {
    for (const r of requests) {
      if (!stalled.write(r)) await new Promise((res) => stalled.once('drain', res));
      written++;
    }
  })();
  const good = goodClient(b.port);
  let maxRss = rssBefore;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    maxRss = Math.max(maxRss, rssBytes(pid));
  }
  // The broker stopped reading from it long before all requests went in.
  expect(written).toBeLessThan(requests.length);
  expect(answers).toBe(0);
  const { answered, maxLatency } = await good.finish();
  expect(answered).toBeGreaterThan(10);
  expect(maxLatency).toBeLessThan(2000);
  process.stdout.write(`stalled consumer: ${written} of ${requests.length} fetches written, broker RSS +${((maxRss - rssBefore) / 2 ** 20).toFixed(1)} MiB\n`);
  expect(maxRss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  // When it finally reads, every answer is there and intact, in order.
  stalled.resume();
  await writer;
  expect(await waitFor(() => answers === requests.length, 60_000)).toBe(true);
  expect(problems).toEqual([]);
  stalled.destroy();
  admin.close();
});

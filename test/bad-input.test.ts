// Bad input against a real broker process: garbage, lying sizes, unknown API keys, unsupported
// versions. Each bad connection gets an error answer or is closed; a well-behaved client keeps
// being served throughout, and the broker process stays up.

import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { decodeResponse, encodeRequest, FrameReader } from '@sluice/protocol';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';
import { RawClient } from './support/raw-client.ts';

let broker: BrokerProcess;
let good: RawClient;
let goodLoop: Promise<number>;
let stopLoop = false;

beforeAll(async () => {
  broker = await startBroker();
  good = await RawClient.connect(broker.port);
  // A well-behaved client: Metadata requests back to back for the whole file.
  goodLoop = (async () => {
    let answered = 0;
    while (!stopLoop) {
      const md = await good.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.brokers).toHaveLength(1);
      answered++;
      await new Promise((r) => setTimeout(r, 5));
    }
    return answered;
  })();
});

afterAll(async () => {
  stopLoop = true;
  good?.close();
  await broker?.stop();
  if (broker) removeDir(broker.dataDir);
});

/** Opens a raw socket, writes bytes, resolves with what came back once the broker closes it. */
function sendAndAwaitClose(bytes: Uint8Array, timeoutMs = 5000): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket: Socket = connect({ port: broker.port, host: '127.0.0.1' }, () => socket.write(bytes));
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ closed: false, received: Buffer.concat(chunks) });
    }, timeoutMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, received: Buffer.concat(chunks) });
    });
  });
}

function frame(body: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + body.byteLength);
  out.writeInt32BE(body.byteLength, 0);
  out.set(body, 4);
  return out;
}

test('random garbage closes the connection', async () => {
  for (let i = 0; i < 20; i++) {
    const result = await sendAndAwaitClose(frame(randomBytes(64 + i * 13)));
    expect(result.closed).toBe(true);
  }
});

test('a frame whose size exceeds socket.request.max.bytes is refused before buffering', async () => {
  const lying = Buffer.alloc(8);
  lying.writeInt32BE(0x7fffffff, 0);
  expect((await sendAndAwaitClose(lying)).closed).toBe(true);
  const negative = Buffer.alloc(8);
  negative.writeInt32BE(-5, 0);
  expect((await sendAndAwaitClose(negative)).closed).toBe(true);
});

test('a size shorter than the request it frames closes the connection', async () => {
  const request = Buffer.from(encodeRequest(3, 9, 1, 'liar', { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }));
  const truncated = request.subarray(0, 12);
  truncated.writeInt32BE(8, 0);
  expect((await sendAndAwaitClose(truncated)).closed).toBe(true);
});

test('an unknown API key closes the connection', async () => {
  const body = Buffer.alloc(10);
  body.writeInt16BE(9999, 0); // api key
  body.writeInt16BE(0, 2); // version
  body.writeInt32BE(7, 4); // correlation id
  body.writeInt16BE(-1, 8); // null client id
  expect((await sendAndAwaitClose(frame(body))).closed).toBe(true);
});

test('an unsupported version closes the connection; ApiVersions gets a v0 UNSUPPORTED_VERSION answer', async () => {
  const metadata = Buffer.alloc(10);
  metadata.writeInt16BE(3, 0);
  metadata.writeInt16BE(99, 2);
  metadata.writeInt32BE(8, 4);
  metadata.writeInt16BE(-1, 8);
  expect((await sendAndAwaitClose(frame(metadata))).closed).toBe(true);

  const apiVersions = Buffer.alloc(12);
  apiVersions.writeInt16BE(18, 0);
  apiVersions.writeInt16BE(99, 2);
  apiVersions.writeInt32BE(9, 4);
  apiVersions.writeInt16BE(-1, 8);
  const result = await sendAndAwaitClose(frame(apiVersions), 1000);
  const frames = new FrameReader(1 << 20);
  frames.push(result.received);
  const response = frames.next();
  expect(response).not.toBeNull();
  const decoded = decodeResponse(18, 0, response!);
  expect(decoded.correlationId).toBe(9);
  expect(decoded.body.errorCode).toBe(35);
  expect(decoded.body.apiKeys.find((k: { apiKey: number }) => k.apiKey === 18)).toMatchObject({ minVersion: 0, maxVersion: 5 });
});

test('the well-behaved client was served throughout and the broker is still up', async () => {
  await new Promise((r) => setTimeout(r, 200));
  stopLoop = true;
  const answered = await goodLoop;
  expect(answered).toBeGreaterThan(5);
  expect(broker.proc.exitCode).toBeNull();
});

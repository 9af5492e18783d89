// Bytes after a complete request body, against real broker processes (packages/protocol README:
// "Bytes after a request body"). Kafka parses a request's fields and ignores what is left of the
// frame; librdkafka >= 2.1 relies on it. So, for every API and version the broker serves:
// - the request followed by 1, 2, ... 16 extra bytes (zeros, which read like empty fields as
//   librdkafka's do, and a mixed pattern, alternately) gets the same response as the request alone;
// - the request one byte short closes the connection without an answer.
//
// "The same response": two brokers started alike receive the same requests in the same order, one
// plain and one with extra bytes, each on one connection kept open throughout; their decoded
// responses must be equal once the few values a broker generates at random (cluster id, topic ids,
// member ids, fetch session ids) are masked. The requests are the golden frames real clients sent
// (packages/protocol/fixtures/golden), and for the (API, version) pairs no client captured, the
// protocol package's sample request for that version.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ApiKey, apiKeyName, decodeRequest, decodeRequestHeader, decodeResponse, encodeRequest, FrameReader, requestSpecs } from '@sluice/protocol';
import { loadGoldenFrames } from '../packages/protocol/fixtures/golden/load.ts';
import { GOLDEN_CLIENTS } from '../packages/protocol/fixtures/golden/scenario.ts';
import { sampleBody } from '../packages/protocol/fixtures/sample-values.ts';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';

/** One request to replay: its frame with the size prefix, and where it came from. */
interface Replay {
  readonly apiKey: number;
  readonly version: number;
  readonly source: string;
  readonly frame: Uint8Array;
}

/** A socket that sends whole frames and hands back response frames (or null once closed). */
class FrameSocket {
  private readonly frames = new FrameReader(256 * 1024 * 1024);
  private readonly ready: Uint8Array[] = [];
  private waiter: ((f: Uint8Array | null) => void) | null = null;
  private closed = false;
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(chunk);
      for (let f = this.frames.next(); f !== null; f = this.frames.next()) this.ready.push(Uint8Array.from(f));
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<FrameSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new FrameSocket(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    if (this.waiter === null) return;
    if (this.ready.length > 0) {
      const w = this.waiter;
      this.waiter = null;
      w(this.ready.shift()!);
    } else if (this.closed) {
      const w = this.waiter;
      this.waiter = null;
      w(null);
    }
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** The next response frame (without its size prefix), or null when the broker closed. */
  next(timeoutMs: number): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response or close in ${timeoutMs} ms`)), timeoutMs);
      this.waiter = (f) => {
        clearTimeout(timer);
        resolve(f);
      };
      this.wake();
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The frame with its correlation id replaced and `extra` bytes appended (size prefix adjusted). */
function reframe(frame: Uint8Array, correlationId: number, extra: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + extra.length);
  out.set(frame);
  out.set(extra, frame.length);
  const view = new DataView(out.buffer);
  view.setInt32(0, frame.length - 4 + extra.length);
  view.setInt32(8, correlationId);
  return out;
}

/** `n` extra bytes: zeros (they read like empty fields, as librdkafka's do) or a mixed pattern. */
function extraBytes(n: number, zeros: boolean): Uint8Array {
  return zeros ? new Uint8Array(n) : Uint8Array.from({ length: n }, (_, i) => (0xff - i * 37) & 0xff);
}

// Values that differ between two brokers started alike: the listener port and the log dir (each
// has its own) and what a broker makes up at random.
const RANDOM_FIELDS = new Set(['port', 'clusterId', 'topicId', 'memberId', 'leader', 'sessionId', 'logDir']);

/** The decoded response with the broker-generated random values replaced by '<random>'. */
function masked(value: unknown, key = ''): unknown {
  if (RANDOM_FIELDS.has(key) && (typeof value === 'string' || typeof value === 'number')) return '<random>';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (Array.isArray(value)) return value.map((v) => masked(v));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, k)]));
  }
  return value;
}

let plain: BrokerProcess;
let trailing: BrokerProcess;
const replays: Replay[] = [];

beforeAll(async () => {
  // Same configuration for both; cluster.id fixed so Metadata/DescribeCluster answers compare.
  const overrides = { 'cluster.id': 'trailing-bytes-test', 'sluice.log.level': 'warn' };
  [plain, trailing] = await Promise.all([startBroker({ overrides }), startBroker({ overrides })]);

  // What the broker serves: its own ApiVersions answer.
  const probe = await FrameSocket.open(plain.port);
  probe.write(encodeRequest(ApiKey.ApiVersions, 3, 1, 'probe', { clientSoftwareName: 'probe', clientSoftwareVersion: '1' }));
  const served = decodeResponse(ApiKey.ApiVersions, 3, (await probe.next(10_000))!).body.apiKeys as Array<{
    apiKey: number;
    minVersion: number;
    maxVersion: number;
  }>;
  probe.close();

  const golden = GOLDEN_CLIENTS.flatMap((c) => loadGoldenFrames(c)).filter((f) => f.direction === 'request');
  for (const { apiKey, minVersion, maxVersion } of served) {
    // Produce is advertised from v0 as Kafka 4 does (for librdkafka) but, like Kafka 4, only
    // v3+ is decoded; the older versions close the connection whatever follows them.
    const [lo, hi] = requestSpecs.get(apiKey)!.validVersions;
    for (let version = Math.max(minVersion, lo); version <= Math.min(maxVersion, hi); version++) {
      const captured = golden.find((f) => f.apiKey === apiKey && f.apiVersion === version);
      if (captured !== undefined) {
        // The request as its schema has it: librdkafka's Metadata frames already carry 3 bytes
        // after the body, which the plain broker must not see.
        const info = { trailingBytes: 0 };
        decodeRequest(decodeRequestHeader(captured.bytes.subarray(4)), captured.bytes.subarray(4), info);
        const frame = captured.bytes.slice(0, captured.bytes.length - info.trailingBytes);
        new DataView(frame.buffer).setInt32(0, frame.length - 4);
        replays.push({ apiKey, version, source: `${captured.client} ${captured.file}`, frame });
        continue;
      }
      const spec = requestSpecs.get(apiKey)!;
      const frame = encodeRequest(apiKey, version, 1, 'trailing-bytes-test', sampleBody(spec, version, 'full'));
      replays.push({ apiKey, version, source: 'sample', frame });
    }
  }
  // Topics first and deletions last, so that produces, fetches and offset lookups on the golden
  // clients' topics meet existing partitions rather than only UNKNOWN_TOPIC_OR_PARTITION.
  const rank = (apiKey: number) => (apiKey === ApiKey.CreateTopics ? 0 : apiKey === ApiKey.DeleteTopics ? 2 : 1);
  replays.sort((x, y) => rank(x.apiKey) - rank(y.apiKey));
}, 60_000);

afterAll(async () => {
  for (const b of [plain, trailing]) {
    if (b === undefined) continue;
    await b.stop();
    removeDir(b.dataDir);
  }
});

/** Sends one request and then an ApiVersions marker; returns the request's response (null if none: acks=0). */
async function exchange(socket: FrameSocket, frame: Uint8Array, correlationId: number): Promise<Uint8Array | null> {
  socket.write(frame);
  socket.write(encodeRequest(ApiKey.ApiVersions, 0, -correlationId, 'marker', {}));
  const first = await socket.next(30_000);
  if (first === null) throw new Error('the broker closed the connection');
  if (new DataView(first.buffer, first.byteOffset).getInt32(0) === -correlationId) return null;
  const marker = await socket.next(30_000);
  if (marker === null) throw new Error('the broker closed the connection');
  return first;
}

test('every served request followed by 1-16 extra bytes gets the same response as without them', async () => {
  const a = await FrameSocket.open(plain.port);
  const b = await FrameSocket.open(trailing.port);
  const expectedCounts = new Map<string, number>();
  const differences: string[] = [];
  let correlationId = 1;
  try {
    for (const r of replays) {
      for (let n = 1; n <= 16; n++) {
        const extra = extraBytes(n, n % 2 === 1);
        correlationId++;
        const [answerA, answerB] = await Promise.all([
          exchange(a, reframe(r.frame, correlationId, new Uint8Array(0)), correlationId),
          exchange(b, reframe(r.frame, correlationId, extra), correlationId),
        ]);
        const what = `${apiKeyName(r.apiKey)} v${r.version} (${r.source}) + ${n} bytes`;
        if ((answerA === null) !== (answerB === null)) differences.push(`${what}: answered ${answerA !== null} vs ${answerB !== null}`);
        if (answerA !== null && answerB !== null) {
          const bodyA = decodeResponse(r.apiKey, r.version, answerA);
          const bodyB = decodeResponse(r.apiKey, r.version, answerB);
          expect(bodyB.correlationId, what).toBe(correlationId);
          const [ja, jb] = [JSON.stringify(masked(bodyA.body)), JSON.stringify(masked(bodyB.body))];
          if (ja !== jb) differences.push(`${what}:\n  plain:    ${ja}\n  trailing: ${jb}`);
        }
        const name = apiKeyName(r.apiKey);
        expectedCounts.set(name, (expectedCounts.get(name) ?? 0) + 1);
      }
    }
  } finally {
    a.close();
    b.close();
  }
  expect(differences).toEqual([]);
  expect(replays.length).toBeGreaterThan(100);

  // Each request with extra bytes was counted under its API; the plain broker counted none.
  const scrape = async (b: BrokerProcess) => (await fetch(b.metricsUrl!)).text();
  const counted = new Map<string, number>();
  for (const m of (await scrape(trailing)).matchAll(/^sluice_request_trailing_bytes_total\{api="(\w+)"\} (\d+)$/gm)) {
    counted.set(m[1], Number(m[2]));
  }
  expect(counted).toEqual(expectedCounts);
  expect(await scrape(plain)).not.toMatch(/^sluice_request_trailing_bytes_total\{/m);
}, 300_000);

test('every served request one byte short closes the connection without an answer', async () => {
  for (const r of replays) {
    const socket = await FrameSocket.open(trailing.port);
    const short = reframe(r.frame.subarray(0, r.frame.length - 1), 7, new Uint8Array(0));
    socket.write(short);
    expect(await socket.next(10_000), `${apiKeyName(r.apiKey)} v${r.version} (${r.source}) one byte short`).toBeNull();
    socket.close();
  }
}, 120_000);

test('both brokers are still up', () => {
  expect(plain.proc.exitCode).toBeNull();
  expect(trailing.proc.exitCode).toBeNull();
});

// Protocol fuzzer against a live broker process. Frames come from four sources: the golden
// request frames real clients sent (kafkajs, kcat, Java, franz-go, kafka-python; the protocol
// package's fixtures), valid requests built from its sample bodies (every request API at every
// version, both shapes), a few realistic templates (Produce with a real record batch, Fetch,
// Metadata, ListOffsets on an existing topic), and mutations of all of these (bit flips,
// interesting integers written over length and count fields, truncation, extension, splices,
// header rewrites), plus pure garbage. They are sent over several concurrent connections in random chunkings, with
// pipelining and abrupt closes.
//
// Throughout, a well-behaved client produces and fetches on its own topic and must be answered
// correctly and in time; the broker's RSS (/proc/PID/status) and open fds (/proc/PID/fd) are
// sampled against bounds; the process must stay up. Used by fuzz.test.ts (bounded time, in
// `pnpm test`) and run.ts (long mode).

import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { buildRecordBatch, encodeRequest, requestSpecs } from '@sluice/protocol';
import { loadGoldenFrames } from '../../packages/protocol/fixtures/golden/load.ts';
import { GOLDEN_CLIENTS } from '../../packages/protocol/fixtures/golden/scenario.ts';
import { prng, sampleBody } from '../../packages/protocol/fixtures/sample-values.ts';
import type { BrokerProcess } from '../support/broker-process.ts';
import { fdCount, rssBytes } from '../support/process-stats.ts';
import { RawClient } from '../support/raw-client.ts';
import { createTopic, fetchRequest, produce, readPartition } from '../support/requests.ts';

export const FUZZ_TOPIC = 'fuzz-target';
export const GOOD_TOPIC = 'well-behaved-client';

export interface FuzzOptions {
  readonly seconds: number;
  readonly seed: number;
  /** Concurrent fuzzing connections. */
  readonly connections?: number;
  /** RSS may grow at most this much over the warmed-up baseline. */
  readonly rssGrowthBoundBytes?: number;
  readonly progress?: (line: string) => void;
  /**
   * Where the fuzzed connections go (default: the broker's first listener). A SASL listener's
   * port fuzzes the authentication entry point: SaslHandshake, SaslAuthenticate, the v0 raw
   * token flow, and whatever else arrives before a login. The well-behaved client stays on the
   * first listener.
   */
  readonly targetPort?: number;
  /**
   * The target port is a TLS listener (SSL or SASL_SSL) trusted through this CA (PEM text): the
   * fuzzed frames then travel inside a completed TLS session, so they reach the broker's TLS
   * record path and, behind it, the same parsers as on a plaintext listener.
   */
  readonly targetTlsCa?: string;
}

export interface FuzzReport {
  readonly framesSent: number;
  readonly connectionsOpened: number;
  readonly responsesReceived: number;
  readonly closedByBroker: number;
  readonly goodRequests: number;
  readonly goodFailures: readonly string[];
  readonly goodMaxLatencyMs: number;
  readonly baselineRssBytes: number;
  readonly maxRssBytes: number;
  readonly baselineFds: number;
  readonly maxFds: number;
  /** Fds after the fuzz connections closed and the broker settled. */
  readonly finalFds: number;
  /** Partitions that exist at the end (fuzzed CreateTopics may add some; each holds files). */
  readonly finalPartitions: number;
  /** Consumer groups at the end (fuzzed group requests create some: state, not a leak). */
  readonly finalGroups: number;
  readonly brokerAlive: boolean;
}

/** Request frames real clients sent, as captured (size prefix included). */
function goldenFrames(): Uint8Array[] {
  return GOLDEN_CLIENTS.flatMap((client) =>
    loadGoldenFrames(client)
      .filter((f) => f.direction === 'request')
      .map((f) => f.bytes),
  );
}

/** Valid request frames: every request spec at every version in both sample shapes. */
function sampleFrames(): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let correlationId = 1;
  for (const [apiKey, spec] of requestSpecs) {
    for (let v = spec.validVersions[0]; v <= spec.validVersions[1]; v++) {
      for (const shape of ['full', 'nulls'] as const) {
        try {
          frames.push(encodeRequest(apiKey, v, correlationId++, 'fuzz', sampleBody(spec, v, shape)));
        } catch {
          // A shape the version cannot carry (e.g. a null where none is allowed): skip it.
        }
      }
    }
  }
  return frames;
}

/** Realistic requests on a topic that exists, so mutations reach deep paths. */
function templateFrames(random: () => number): Uint8Array[] {
  const batch = buildRecordBatch({
    records: Array.from({ length: 5 }, (_, i) => ({
      key: `k${i}`,
      value: `value-${i}-${'z'.repeat(Math.floor(random() * 100))}`,
      headers: [{ key: 'h', value: 'v' }],
    })),
  });
  return [
    encodeRequest(0, 9, 1, 'fuzz', {
      transactionalId: null,
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: FUZZ_TOPIC, partitionData: [{ index: 0, records: batch }] }],
    }),
    encodeRequest(0, 7, 2, 'fuzz', {
      transactionalId: null,
      acks: 1,
      timeoutMs: 1000,
      topicData: [{ name: FUZZ_TOPIC, partitionData: [{ index: 1, records: batch }] }],
    }),
    encodeRequest(1, 11, 3, 'fuzz', fetchRequest(FUZZ_TOPIC, 0, 0, 50, 64 * 1024)),
    encodeRequest(1, 12, 4, 'fuzz', fetchRequest(FUZZ_TOPIC, 1, 0, 0, 64 * 1024)),
    encodeRequest(3, 9, 5, 'fuzz', {
      topics: [{ topicId: '00000000000000000000000000000000', name: FUZZ_TOPIC }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    }),
    encodeRequest(2, 7, 6, 'fuzz', {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: FUZZ_TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
    }),
    encodeRequest(18, 3, 7, 'fuzz', { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }),
  ];
}

const INTERESTING_32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0x7ffffffe, 0xffff, 0x10000, 100, 1 << 20];
const INTERESTING_16 = [0, 1, -1, 0x7fff, -0x8000, 0xff];
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff];

/** One random change to a frame body (the 4-byte size prefix is fixed up by `frameBytes`). */
function mutate(body: Uint8Array, random: () => number, pool: readonly Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  const out = Buffer.from(body);
  if (out.length === 0) return Buffer.from([pick(256)]);
  switch (pick(9)) {
    case 0: {
      // Bit flips.
      for (let i = 1 + pick(4); i > 0; i--) out[pick(out.length)] ^= 1 << pick(8);
      return out;
    }
    case 1:
      if (out.length >= 4) out.writeInt32BE(INTERESTING_32[pick(INTERESTING_32.length)] | 0, pick(out.length - 3));
      return out;
    case 2:
      if (out.length >= 2) out.writeInt16BE(INTERESTING_16[pick(INTERESTING_16.length)], pick(out.length - 1));
      return out;
    case 3:
      out[pick(out.length)] = INTERESTING_8[pick(INTERESTING_8.length)];
      return out;
    case 4:
      // Truncated.
      return out.subarray(0, pick(out.length));
    case 5: {
      // Extended with garbage.
      const extra = Buffer.alloc(1 + pick(64));
      for (let i = 0; i < extra.length; i++) extra[i] = pick(256);
      return Buffer.concat([out, extra]);
    }
    case 6: {
      // Spliced with another frame's tail.
      const other = pool[pick(pool.length)];
      return Buffer.concat([out.subarray(0, pick(out.length)), Buffer.from(other.subarray(4 + pick(Math.max(1, other.length - 4))))]);
    }
    case 7:
      // Another API key or version in the header (the body stays).
      if (out.length >= 4) {
        if (random() < 0.5) out.writeInt16BE(pick(80) - 5, 0);
        else out.writeInt16BE(pick(20) - 2, 2);
      }
      return out;
    default: {
      // A stretch of bytes repeated (counts and lengths that lie about what follows).
      const from = pick(out.length);
      const len = Math.min(1 + pick(32), out.length - from);
      return Buffer.concat([out.subarray(0, from + len), out.subarray(from, from + len), out.subarray(from + len)]);
    }
  }
}

function withSizePrefix(body: Uint8Array): Uint8Array {
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}

/** The next frame to send: valid, mutated, a lying size prefix, or garbage. */
function nextFrame(random: () => number, pool: readonly Uint8Array[]): Uint8Array {
  const base = pool[Math.floor(random() * pool.length)];
  const r = random();
  if (r < 0.25) return base; // valid as encoded
  if (r < 0.85) {
    let body: Uint8Array = base.subarray(4);
    for (let i = 1 + Math.floor(random() * 3); i > 0; i--) body = mutate(body, random, pool);
    return withSizePrefix(body);
  }
  if (r < 0.92) {
    // A size prefix that lies about the body that follows.
    const out = Buffer.from(base);
    const sizes = [0, 1, 3, -1, -0x80000000, 0x7fffffff, base.length + 100, Math.floor(base.length / 2)];
    out.writeInt32BE(sizes[Math.floor(random() * sizes.length)] | 0, 0);
    return out;
  }
  const garbage = Buffer.alloc(Math.floor(random() * 300));
  for (let i = 0; i < garbage.length; i++) garbage[i] = Math.floor(random() * 256);
  return random() < 0.5 ? withSizePrefix(garbage) : garbage;
}

interface SessionStats {
  frames: number;
  responses: number;
  closedByBroker: boolean;
}

/** One fuzzing connection: a burst of frames in random chunks, reading whatever comes back. */
function fuzzSession(port: number, random: () => number, pool: readonly Uint8Array[], tlsCa?: string): Promise<SessionStats> {
  return new Promise((resolve) => {
    const stats: SessionStats = { frames: 0, responses: 0, closedByBroker: false };
    const socket: Socket =
      tlsCa === undefined ? connect({ port, host: '127.0.0.1' }) : connectTls({ port, host: '127.0.0.1', ca: tlsCa, servername: 'localhost' });
    let pending = Buffer.alloc(0);
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      socket.destroy();
      resolve(stats);
    };
    // Reads only count response frames; their content is not checked (the good client is).
    socket.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        pending = pending.subarray(4 + pending.readInt32BE(0));
        stats.responses++;
      }
      if (pending.length > 1 << 20) pending = Buffer.alloc(0);
    });
    socket.on('error', () => finish());
    socket.on('close', () => {
      stats.closedByBroker = !finished;
      finish();
    });
    const deadline = setTimeout(finish, 300 + random() * 700);
    socket.on(tlsCa === undefined ? 'connect' : 'secureConnect', async () => {
      const frames = 1 + Math.floor(random() * 12);
      for (let i = 0; i < frames && !finished; i++) {
        const frame = nextFrame(random, pool);
        stats.frames++;
        // Random chunking: the broker must reassemble frames split anywhere.
        let at = 0;
        while (at < frame.length && !finished) {
          const n = random() < 0.5 ? frame.length - at : 1 + Math.floor(random() * (frame.length - at));
          socket.write(frame.subarray(at, at + n));
          at += n;
          if (random() < 0.2) await new Promise((r) => setTimeout(r, Math.floor(random() * 5)));
        }
        if (random() < 0.3) await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
      }
      if (random() < 0.3)
        socket.end(); // half-close: answers still come
      else if (random() < 0.2) finish(); // abrupt close with requests in flight
    });
  });
}

/** The well-behaved client: produce, fetch back, metadata, in a loop, all checked. */
async function goodClientLoop(port: number, stop: () => boolean, failures: string[], latencies: number[]): Promise<number> {
  const client = await RawClient.connect(port);
  let requests = 0;
  let next = 0;
  try {
    while (!stop()) {
      const started = performance.now();
      const value = `good-${next}`;
      const produced = await produce(client, GOOD_TOPIC, 0, [value]);
      if (produced.errorCode !== 0 || produced.baseOffset !== next)
        failures.push(`produce ${value}: error ${produced.errorCode}, offset ${produced.baseOffset}`);
      const fetched = await client.request(1, 11, fetchRequest(GOOD_TOPIC, 0, next));
      const partition = fetched.responses[0].partitions[0];
      if (partition.errorCode !== 0 || Number(partition.highWatermark) !== next + 1)
        failures.push(`fetch @${next}: error ${partition.errorCode}, hw ${partition.highWatermark}`);
      const md = await client.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      if (md.brokers.length !== 1) failures.push('metadata without the broker');
      latencies.push(performance.now() - started);
      requests += 3;
      next++;
      await new Promise((r) => setTimeout(r, 5));
    }
    // Everything it produced is there, in order.
    const all = await readPartition(client, GOOD_TOPIC, 0);
    const expected = Array.from({ length: next }, (_, i) => `good-${i}`);
    const got = all.records.map((r) => r.value);
    if (JSON.stringify(got) !== JSON.stringify(expected)) failures.push(`read back ${got.length} records, expected ${expected.length}`);
  } catch (err) {
    failures.push(`well-behaved client failed: ${(err as Error).message}`);
  } finally {
    client.close();
  }
  return requests;
}

export async function runFuzz(broker: BrokerProcess, options: FuzzOptions): Promise<FuzzReport> {
  const pid = broker.proc.pid!;
  const random = prng(options.seed);
  const say = options.progress ?? (() => undefined);
  const admin = await RawClient.connect(broker.port);
  for (const [topic, partitions] of [
    [FUZZ_TOPIC, 2],
    [GOOD_TOPIC, 1],
  ] as const) {
    const code = await createTopic(admin, topic, partitions);
    if (code !== 0) throw new Error(`CreateTopics ${topic}: ${code}`);
  }
  const pool = [...goldenFrames(), ...sampleFrames(), ...templateFrames(random)];
  // Warm up with valid traffic, then take the baselines.
  for (let i = 0; i < 50; i++) await produce(admin, FUZZ_TOPIC, i % 2, [`warm-${i}`]);
  // Idle from here to the end (a long run outlasts connections.max.idle.ms): a new one then.
  admin.close();
  await new Promise((r) => setTimeout(r, 300));
  const baselineRssBytes = rssBytes(pid);
  const baselineFds = fdCount(pid);
  const rssBound = baselineRssBytes + (options.rssGrowthBoundBytes ?? 256 * 1024 * 1024);

  const deadline = performance.now() + options.seconds * 1000;
  const stop = () => performance.now() >= deadline || broker.proc.exitCode !== null || broker.proc.signalCode !== null;
  const goodFailures: string[] = [];
  const latencies: number[] = [];
  const good = goodClientLoop(broker.port, stop, goodFailures, latencies);
  let framesSent = 0;
  let connectionsOpened = 0;
  let responsesReceived = 0;
  let closedByBroker = 0;
  let maxRssBytes = baselineRssBytes;
  let maxFds = baselineFds;
  const sampler = setInterval(() => {
    try {
      maxRssBytes = Math.max(maxRssBytes, rssBytes(pid));
      maxFds = Math.max(maxFds, fdCount(pid));
    } catch {
      // the process is gone; reported below
    }
  }, 100);
  let lastReport = performance.now();
  const workers = Array.from({ length: options.connections ?? 4 }, async () => {
    while (!stop()) {
      const s = await fuzzSession(options.targetPort ?? broker.port, random, pool, options.targetTlsCa);
      connectionsOpened++;
      framesSent += s.frames;
      responsesReceived += s.responses;
      if (s.closedByBroker) closedByBroker++;
      if (performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        say(`${framesSent} frames on ${connectionsOpened} connections; rss ${(rssBytes(pid) / 2 ** 20).toFixed(0)} MiB, fds ${fdCount(pid)}`);
      }
    }
  });
  await Promise.all(workers);
  const goodRequests = await good;
  clearInterval(sampler);
  const brokerAlive = broker.proc.exitCode === null && broker.proc.signalCode === null;
  // Let the closes land, then count what is left open.
  await new Promise((r) => setTimeout(r, 500));
  const finalFds = brokerAlive ? fdCount(pid) : -1;
  let finalPartitions = -1;
  let finalGroups = -1;
  if (brokerAlive) {
    const check = await RawClient.connect(broker.port);
    const md = await check.request(3, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    finalPartitions = md.topics.reduce((n: number, t: { partitions: unknown[] }) => n + t.partitions.length, 0);
    finalGroups = (await check.request(16, 4, { statesFilter: [] })).groups.length;
    check.close();
  }
  if (maxRssBytes > rssBound) goodFailures.push(`RSS reached ${maxRssBytes} bytes, bound ${rssBound}`);
  return {
    framesSent,
    connectionsOpened,
    responsesReceived,
    closedByBroker,
    goodRequests,
    goodFailures,
    goodMaxLatencyMs: Math.round(latencies.reduce((max, l) => Math.max(max, l), 0)), // not Math.max(...): a long run has more latencies than the stack has room for arguments
    baselineRssBytes,
    maxRssBytes,
    baselineFds,
    maxFds,
    finalFds,
    finalPartitions,
    finalGroups,
    brokerAlive,
  };
}

// Captures golden bytes: the frames real Kafka clients send and the frames our broker answers
// with, for src/golden.test.ts. Not part of the package (it opens sockets and files; the codec
// never does) and not needed by the tests, only to refresh the fixtures:
//
//   pnpm exec node packages/protocol/scripts/capture-golden.ts [client ...]
//
// It starts a real broker process (test/support/broker-process.ts) that advertises a recording
// TCP proxy as its listener, so every connection a client opens — bootstrap and the ones it makes
// after Metadata — goes through the proxy. The proxy forwards bytes untouched and, on the side,
// cuts both directions into frames and pairs responses with requests by correlation id. Each
// client then plays its part of fixtures/golden/scenario.ts (admin, produce, group consume).
//
// Per client, fixtures/golden/<client>/ gets one .hex file per kept frame (the whole frame, size
// prefix included, 32 bytes per line) and index.json: client and library versions, and per frame
// the exchange it belongs to, direction, API key, name, version, correlation id and connection.
// Of each (API, version) it keeps the first two exchanges, the last one and the two largest of the
// rest, so empty and full Fetch/Produce frames and the final commit are all there while
// heartbeats do not pile up.
//
// Clients: kafkajs (in this process), kcat (librdkafka, from apt), the Java client, franz-go,
// kafka-python and confluent-kafka-python (librdkafka 2.16 in its wheel) (built by
// test/clients/support.ts). Every producer is idempotent (the default of the Java client,
// franz-go, kafka-python and librdkafka 2.x's confluent-kafka; asked for in kafkajs and kcat).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { Kafka, logLevel, CompressionTypes } from 'kafkajs';
import { apiKeyName } from '../src/index.ts';
import { type BrokerProcess, removeDir, startBroker } from '../../../test/support/broker-process.ts';
import { kcat, requireKcat } from '../../../test/support/kcat.ts';
import { ensureConfluentPythonClient, ensureGoClient, ensureJavaClient, ensurePythonClient, runClientOk } from '../../../test/clients/support.ts';
import type { GoldenIndex, GoldenIndexFrame } from '../fixtures/golden/load.ts';
import { GOLDEN_CLIENTS, GOLDEN_VALUE_SUFFIX, type GoldenClient, type GoldenScenario, goldenScenario } from '../fixtures/golden/scenario.ts';

const PACKAGE_DIR = resolve(import.meta.dirname, '..');
const ROOT = resolve(PACKAGE_DIR, '..', '..');
const GOLDEN_DIR = join(PACKAGE_DIR, 'fixtures', 'golden');
const CLIENTS_DIR = join(ROOT, 'test', 'clients');

/** Frames bigger than this are not golden material (and no scenario step produces one). */
const MAX_RECORDED_FRAME = 4 * 1024 * 1024;
const KEEP_FIRST = 2;
const KEEP_LARGEST = 2;

// --- the recording proxy -------------------------------------------------------------------------

interface Exchange {
  readonly seq: number;
  readonly client: string;
  readonly connection: number;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly request: Uint8Array;
  response: Uint8Array | null;
}

/** Splits a byte stream into size-prefixed frames (prefix included), independently of the codec. */
class FrameSplitter {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Uint8Array[] {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const frames: Uint8Array[] = [];
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0);
      if (size < 0 || size > MAX_RECORDED_FRAME) throw new Error(`frame of ${size} bytes: not recording it`);
      if (this.buffered.length < 4 + size) break;
      frames.push(new Uint8Array(this.buffered.subarray(0, 4 + size))); // a copy: the proxy forwards the chunk
      this.buffered = this.buffered.subarray(4 + size);
    }
    return frames;
  }
}

class RecordingProxy {
  readonly exchanges: Exchange[] = [];
  /** The label given to connections accepted from now on. */
  currentClient = 'none';
  upstreamPort = 0;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  private seq = 0;

  constructor() {
    this.server = createServer((downstream) => this.accept(downstream));
  }

  listen(): Promise<number> {
    return new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(0, '127.0.0.1', () => res((this.server.address() as { port: number }).port));
    });
  }

  private accept(downstream: Socket): void {
    if (this.upstreamPort === 0) throw new Error('BUG: a connection before the broker started');
    const client = this.currentClient;
    const connection = ++this.connections;
    const upstream = connect({ host: '127.0.0.1', port: this.upstreamPort });
    const pending = new Map<number, Exchange>();
    const requests = new FrameSplitter();
    const responses = new FrameSplitter();
    for (const s of [downstream, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    downstream.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      for (const frame of requests.push(chunk)) {
        const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
        const exchange: Exchange = {
          seq: ++this.seq,
          client,
          connection,
          apiKey: view.getInt16(4),
          apiVersion: view.getInt16(6),
          correlationId: view.getInt32(8),
          request: frame,
          response: null,
        };
        this.exchanges.push(exchange);
        pending.set(exchange.correlationId, exchange);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      downstream.write(chunk);
      for (const frame of responses.push(chunk)) {
        const correlationId = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getInt32(4);
        const exchange = pending.get(correlationId);
        if (exchange === undefined) throw new Error(`${client} connection ${connection}: a response to unknown correlation id ${correlationId}`);
        pending.delete(correlationId);
        exchange.response = frame;
      }
    });
    downstream.on('close', () => upstream.end());
    upstream.on('close', () => downstream.end());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((res) => this.server.close(() => res()));
  }
}

// --- the clients ---------------------------------------------------------------------------------

interface ClientRunInfo {
  /** Library and version, for the index and the test's notes. */
  readonly versions: Record<string, string>;
  readonly notes: string[];
}

interface RunContext {
  readonly bootstrap: string;
}

function packageVersion(pkgDir: string): string {
  return (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
}

async function runKafkajs(s: GoldenScenario, ctx: RunContext): Promise<ClientRunInfo> {
  if (s.compression !== 'gzip') throw new Error('BUG: kafkajs compresses with gzip only (no codec plug-ins here)');
  const kafka = new Kafka({ clientId: 'golden-kafkajs', brokers: [ctx.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: s.adminTopic as string, numPartitions: s.partitions, configEntries: [{ name: 'retention.ms', value: s.adminTopicRetentionMs }] },
      { topic: s.topic, numPartitions: s.partitions },
    ],
  });
  await admin.fetchTopicMetadata({ topics: [s.adminTopic as string] });
  await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: s.adminTopic as string }] });
  await admin.deleteTopics({ topics: [s.adminTopic as string] });

  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
  await producer.connect();
  await producer.send({ topic: s.topic, acks: s.acks, compression: CompressionTypes.GZIP, messages: s.records.map((r) => ({ ...r })) });
  await producer.disconnect();
  await admin.fetchTopicOffsets(s.topic);

  const consumer = kafka.consumer({ groupId: s.group, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic: s.topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`kafkajs consumer: ${seen} of ${s.records.length} records in 60 s`)), 60_000);
    consumer
      .run({
        eachMessage: async () => {
          if (++seen === s.records.length) {
            clearTimeout(timer);
            res();
          }
        },
      })
      .catch(rej);
  });
  await consumer.disconnect(); // commits what was consumed, leaves the group
  await admin.fetchOffsets({ groupId: s.group, topics: [s.topic] });
  await admin.disconnect();
  const version = packageVersion(join(PACKAGE_DIR, 'node_modules', 'kafkajs'));
  return { versions: { kafkajs: version }, notes: ['producer: idempotent: true, acks -1, gzip'] };
}

async function kcatOk(args: string[], input?: string): Promise<string> {
  const r = await kcat(args, input, 60_000);
  if (r.code !== 0) throw new Error(`kcat ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function runKcat(s: GoldenScenario, ctx: RunContext): Promise<ClientRunInfo> {
  requireKcat();
  const b = ['-b', ctx.bootstrap];
  // The topic is auto-created by the producer's Metadata request (num.partitions = s.partitions).
  const lines = s.records.map((r) => `${r.key}:${r.value}`).join('\n') + '\n';
  await kcatOk([...b, '-P', '-t', s.topic, '-K:', '-z', s.compression, '-X', 'acks=all', '-X', 'enable.idempotence=true'], lines);
  await kcatOk([...b, '-L', '-t', s.topic]);
  const simple = await kcatOk([...b, '-C', '-t', s.topic, '-o', 'beginning', '-e', '-q']);
  if (simple.trim().split('\n').length !== s.records.length) throw new Error(`kcat -C read ${simple}`);
  // The group consumer starts from committed offsets (OffsetFetch; none yet, so earliest), commits
  // on close (auto commit), and -e exits at the end of every partition. (`-o beginning` would
  // assign explicit offsets and skip OffsetFetch.)
  const grouped = await kcatOk([...b, '-G', s.group, '-X', 'auto.offset.reset=earliest', '-e', '-q', '-X', 'heartbeat.interval.ms=500', s.topic]);
  if (grouped.trim().split('\n').length !== s.records.length) throw new Error(`kcat -G read ${grouped}`);
  const v = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout;
  const kcatVersion = /Version (\S+)/.exec(v)?.[1] ?? 'unknown';
  const librdkafka = /librdkafka (\S+)/.exec(v)?.[1] ?? 'unknown';
  return { versions: { kcat: kcatVersion, librdkafka }, notes: [`producer: enable.idempotence=true, acks=all, ${s.compression}`] };
}

async function runJava(s: GoldenScenario, ctx: RunContext): Promise<ClientRunInfo> {
  const java = ensureJavaClient();
  await runClientOk(java, ['admin', ctx.bootstrap, s.adminTopic as string, String(s.partitions)]);
  // The topic is auto-created by the producer's Metadata request (num.partitions = s.partitions).
  await runClientOk(java, ['produce', ctx.bootstrap, s.topic, String(s.records.length), s.compression, 'true', GOLDEN_VALUE_SUFFIX]);
  await runClientOk(java, ['consume', ctx.bootstrap, s.topic, s.group, String(s.records.length)]);
  const pom = readFileSync(join(CLIENTS_DIR, 'java', 'pom.xml'), 'utf8');
  const version = /<kafka.version>([^<]+)<\/kafka.version>/.exec(pom)?.[1] ?? 'unknown';
  return { versions: { 'kafka-clients': version }, notes: [`producer: idempotent (default), acks=all, ${s.compression}`] };
}

async function runFranzGo(s: GoldenScenario, ctx: RunContext): Promise<ClientRunInfo> {
  const go = ensureGoClient();
  const common = ['-brokers', ctx.bootstrap, '-topic', s.topic];
  await runClientOk(go, ['create-topic', ...common, '-partitions', String(s.partitions)]);
  // kgo's defaults: idempotent, acks all, snappy.
  await runClientOk(go, ['produce', ...common, '-count', String(s.records.length), '-value-suffix', GOLDEN_VALUE_SUFFIX]);
  await runClientOk(go, ['consume', ...common, '-group', s.group, '-count', String(s.records.length)]);
  const goMod = readFileSync(join(CLIENTS_DIR, 'go', 'go.mod'), 'utf8');
  const version = /github\.com\/twmb\/franz-go (v\S+)/.exec(goMod)?.[1] ?? 'unknown';
  return { versions: { 'franz-go': version }, notes: ["producer: kgo's defaults (idempotent, acks all, snappy)"] };
}

async function runKafkaPython(s: GoldenScenario, ctx: RunContext): Promise<ClientRunInfo> {
  const python = ensurePythonClient();
  await runClientOk(python, ['produce', ctx.bootstrap, s.topic, String(s.records.length), s.compression, 'true', GOLDEN_VALUE_SUFFIX]);
  await runClientOk(python, ['consume', ctx.bootstrap, s.topic, s.group, String(s.records.length)]);
  const requirements = readFileSync(join(CLIENTS_DIR, 'python', 'requirements.txt'), 'utf8');
  const version = /kafka-python==(\S+)/.exec(requirements)?.[1] ?? 'unknown';
  return { versions: { 'kafka-python': version }, notes: [`producer: idempotent (default), acks=all, ${s.compression}`] };
}

async function runConfluentKafka(s: GoldenScenario, ctx: RunContext): Promise<ClientRunInfo> {
  const client = ensureConfluentPythonClient();
  // Admin: create with retention.ms (and again: already exists), describe its configs, delete.
  await runClientOk(client, ['admin', ctx.bootstrap, s.adminTopic as string, String(s.partitions), 'false', 'true']);
  // The topic is auto-created by the producer's Metadata request (num.partitions = s.partitions).
  await runClientOk(client, ['produce', ctx.bootstrap, s.topic, String(s.records.length), s.compression, 'true', GOLDEN_VALUE_SUFFIX]);
  await runClientOk(client, ['group', ctx.bootstrap, s.topic, s.group, '1', String(s.records.length)]);
  const requirements = readFileSync(join(CLIENTS_DIR, 'python', 'requirements.txt'), 'utf8');
  const version = /confluent-kafka==(\S+)/.exec(requirements)?.[1] ?? 'unknown';
  const python = spawnSync(client.command, ['-c', 'import confluent_kafka; print(confluent_kafka.libversion()[0])'], { encoding: 'utf8' });
  const librdkafka = python.stdout.trim() || 'unknown';
  return { versions: { 'confluent-kafka': version, librdkafka }, notes: [`producer: enable.idempotence=true, acks=all, ${s.compression}`] };
}

const RUNNERS: Record<GoldenClient, (s: GoldenScenario, ctx: RunContext) => Promise<ClientRunInfo>> = {
  kafkajs: runKafkajs,
  kcat: runKcat,
  java: runJava,
  'franz-go': runFranzGo,
  'kafka-python': runKafkaPython,
  'confluent-kafka': runConfluentKafka,
};

// --- choosing and writing frames -----------------------------------------------------------------

function exchangeSize(e: Exchange): number {
  return e.request.length + (e.response?.length ?? 0);
}

/** Of each (API, version): the first KEEP_FIRST exchanges, the last, and the KEEP_LARGEST largest others. */
function choose(exchanges: readonly Exchange[]): Exchange[] {
  const byApi = new Map<string, Exchange[]>();
  for (const e of exchanges) {
    if (e.response === null) continue; // cut off by a disconnect (a parked Fetch): nothing to pair
    const k = `${e.apiKey}/${e.apiVersion}`;
    byApi.set(k, [...(byApi.get(k) ?? []), e]);
  }
  const kept: Exchange[] = [];
  for (const list of byApi.values()) {
    kept.push(...list.slice(0, KEEP_FIRST));
    if (list.length > KEEP_FIRST) kept.push(list[list.length - 1] as Exchange);
    const rest = list.slice(KEEP_FIRST, -1).sort((a, b) => exchangeSize(b) - exchangeSize(a) || a.seq - b.seq);
    kept.push(...rest.slice(0, KEEP_LARGEST));
  }
  return kept.sort((a, b) => a.seq - b.seq);
}

function hexLines(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 64) lines.push(hex.slice(i, i + 64));
  return lines.join('\n') + '\n';
}

function writeFixtures(client: GoldenClient, info: ClientRunInfo, exchanges: readonly Exchange[]): number {
  const dir = join(GOLDEN_DIR, client);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const frames: GoldenIndexFrame[] = [];
  chosen: for (const [i, e] of choose(exchanges).entries()) {
    const n = String(i + 1).padStart(3, '0');
    const api = apiKeyName(e.apiKey);
    for (const direction of ['request', 'response'] as const) {
      const bytes = direction === 'request' ? e.request : e.response;
      if (bytes === null) continue chosen;
      const file = `${n}-${api}-v${e.apiVersion}-${direction}.hex`;
      writeFileSync(join(dir, file), hexLines(bytes));
      frames.push({
        file,
        exchange: i + 1,
        direction,
        apiKey: e.apiKey,
        api,
        apiVersion: e.apiVersion,
        correlationId: e.correlationId,
        connection: e.connection,
      });
    }
  }
  const index: GoldenIndex = {
    client,
    versions: info.versions,
    notes: info.notes,
    capturedBy: 'packages/protocol/scripts/capture-golden.ts',
    capturedAt: new Date().toISOString(),
    frames,
  };
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index, null, 2) + '\n');
  return frames.length;
}

// --- main ----------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  for (const c of wanted) if (!(GOLDEN_CLIENTS as readonly string[]).includes(c)) throw new Error(`unknown client ${c}; one of ${GOLDEN_CLIENTS.join(', ')}`);
  const clients = (wanted.length > 0 ? wanted : GOLDEN_CLIENTS) as GoldenClient[];
  const partitions = new Set(clients.map((c) => goldenScenario(c).partitions));
  if (partitions.size !== 1) throw new Error('BUG: every scenario must share num.partitions (one broker serves them all)');

  const proxy = new RecordingProxy();
  const proxyPort = await proxy.listen();
  let broker: BrokerProcess | null = null;
  try {
    broker = await startBroker({
      overrides: { 'advertised.listeners': `PLAINTEXT://127.0.0.1:${proxyPort}`, 'num.partitions': [...partitions][0] as number },
    });
    proxy.upstreamPort = broker.port;
    process.stdout.write(`broker on ${broker.port}, recording proxy on ${proxyPort}\n`);
    for (const client of clients) {
      proxy.currentClient = client;
      const started = Date.now();
      const info = await RUNNERS[client](goldenScenario(client), { bootstrap: `127.0.0.1:${proxyPort}` });
      await new Promise((r) => setTimeout(r, 200)); // let the last responses through the proxy
      const written = writeFixtures(
        client,
        info,
        proxy.exchanges.filter((e) => e.client === client),
      );
      process.stdout.write(`${client}: ${written} frames in fixtures/golden/${client} (${Date.now() - started} ms)\n`);
    }
  } finally {
    await proxy.close();
    if (broker !== null) {
      await broker.stop();
      removeDir(broker.dataDir);
    }
  }
}

await main();

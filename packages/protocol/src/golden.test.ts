// Golden bytes: frames real Kafka clients sent to our broker, and the broker's answers, captured
// through a recording proxy by scripts/capture-golden.ts while each client played its part of
// fixtures/golden/scenario.ts. The clients are not needed here, only their bytes.
//
// Captured with (each fixtures/golden/<client>/index.json records the same; the first test keeps
// this note honest), and the versions they chose against our advertised ranges:
//   kafkajs 2.2.4              classic only: ApiVersions v2, Metadata v6, CreateTopics v3,
//                              DescribeConfigs v2, DeleteTopics v1, InitProducerId v1, Produce v7,
//                              ListOffsets v3, FindCoordinator v2, JoinGroup v5, SyncGroup v3,
//                              OffsetFetch v4, Fetch v11, OffsetCommit v5, LeaveGroup v3
//   kcat 1.7.1 / librdkafka 2.0.2
//                              ApiVersions v3 (flexible), Metadata v4, InitProducerId v4,
//                              Produce v7, ListOffsets v2, Fetch v11, FindCoordinator v2,
//                              JoinGroup v5, SyncGroup v3, Heartbeat v3, OffsetFetch v7,
//                              OffsetCommit v7, LeaveGroup v1
//   kafka-clients 4.4.0 (Java) ApiVersions v5 (answered then with the v0 fallback) then v4, Metadata v12,
//                              CreateTopics v7, DescribeCluster v1, DescribeConfigs v4,
//                              DeleteTopics v6, InitProducerId v5, Produce v11, FindCoordinator v4,
//                              JoinGroup v9, SyncGroup v5, OffsetFetch v9, ListOffsets v7,
//                              Fetch v13 (topic ids), OffsetCommit v9, LeaveGroup v5
//   franz-go v1.22.2           ApiVersions v5 (fallback) then v4, Metadata v12, CreateTopics v7,
//                              InitProducerId v5, Produce v11, FindCoordinator v4, JoinGroup v9,
//                              SyncGroup v5, OffsetFetch v9, ListOffsets v7, Fetch v13,
//                              OffsetCommit v9, LeaveGroup v5
//   kafka-python 3.0.12        ApiVersions v4, Metadata v12, InitProducerId v4, Produce v9,
//                              FindCoordinator v4, JoinGroup v7, SyncGroup v5, OffsetFetch v8,
//                              ListOffsets v7, Fetch v12, OffsetCommit v8, LeaveGroup v5
//   confluent-kafka 2.16.2 / librdkafka 2.16.0
//                              ApiVersions v3, Metadata v12 (all-topics requests carry 3 bytes past
//                              the body, see below), CreateTopics v4, DescribeConfigs v1,
//                              DeleteTopics v4, InitProducerId v4, Produce v10, ListOffsets v7,
//                              Fetch v13, FindCoordinator v2, JoinGroup v5, SyncGroup v3,
//                              Heartbeat v3, OffsetFetch v9, OffsetCommit v9, LeaveGroup v1
//
// What is checked:
// - every request frame decodes with our codec (header and body) and re-encodes to the same bytes
//   — all of them but librdkafka 2.16's Metadata v12 all-topics requests, which carry 3 bytes after
//   a complete body (a 4-byte zero array count where a 1-byte compact null belongs): they are
//   served as Kafka serves them (README, "Bytes after a request body") and re-encode to the frame
//   without those bytes; no other frame of any client has any;
//   a request above the versions we serve (an ApiVersions v5 frame relabelled v6) is a typed
//   UNSUPPORTED_VERSION error;
// - the first five captures predate ApiVersions v5 on our side: the broker served ApiVersions up
//   to v4 then, so the v5 requests in them were answered with the v0 fallback
//   (captureApiVersionsMax; confluent-kafka's capture is from a broker serving v5); the
//   requests themselves now decode, and carry KIP-1242's cluster id and node id once the client
//   knows them;
// - every response frame decodes with our codec and re-encodes to the same bytes;
// - per client, the decoded values are what the scenario told the client to do: topic names,
//   partition counts, acks, codecs, record keys and values (parsed out of the clients' own record
//   batches), producer ids from InitProducerId stamped on those batches, group ids, committed
//   offsets, topic ids that match the ones the broker handed out;
// - responses at versions kafkajs implements are read by kafkajs's own decoders without error.
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { type GoldenFrame, loadGoldenFrames, loadGoldenIndex } from '../fixtures/golden/load.ts';
import { GOLDEN_CLIENTS, type GoldenClient, type GoldenRecord, type GoldenScenario, goldenScenario } from '../fixtures/golden/scenario.ts';
import {
  ApiKey,
  apiKeyName,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ErrorCode,
  ProtocolError,
  parseRecordBatches,
  Reader,
  requestSpecs,
  type RequestHeader,
} from './index.ts';

const require = createRequire(import.meta.url);

const CAPTURED_WITH: Record<GoldenClient, Record<string, string>> = {
  kafkajs: { kafkajs: '2.2.4' },
  kcat: { kcat: '1.7.1', librdkafka: '2.0.2' },
  java: { 'kafka-clients': '4.4.0' },
  'franz-go': { 'franz-go': 'v1.22.2' },
  'kafka-python': { 'kafka-python': '3.0.12' },
  'confluent-kafka': { 'confluent-kafka': '2.16.2', librdkafka: '2.16.0' },
};

/** What each client says about itself in ApiVersions v3+ (KIP-511). */
const SOFTWARE: Record<GoldenClient, { name: string; version: string } | null> = {
  kafkajs: null, // speaks ApiVersions v2, which has no such fields
  kcat: { name: 'librdkafka', version: '2.0.2' },
  java: { name: 'apache-kafka-java', version: '4.4.0' },
  'franz-go': { name: 'kgo', version: 'v1.22.2' },
  'kafka-python': { name: 'kafka-python', version: '3.0.12' },
  'confluent-kafka': { name: 'confluent-kafka-python', version: '2.16.2-rdkafka-2.16.0' },
};

const A = ApiKey;
const GROUP_APIS = [A.FindCoordinator, A.JoinGroup, A.SyncGroup, A.OffsetFetch, A.OffsetCommit, A.LeaveGroup];
// Every producer in the scenario is idempotent, so InitProducerId comes first.
const CLIENT_APIS = [A.ApiVersions, A.Metadata, A.InitProducerId, A.Produce, A.ListOffsets, A.Fetch, ...GROUP_APIS];
const ADMIN_APIS = [A.CreateTopics, A.DescribeConfigs, A.DeleteTopics];

/** APIs each capture must contain (Heartbeat depends on timing, so it is checked when present). */
const REQUIRED_APIS: Record<GoldenClient, readonly number[]> = {
  kafkajs: [...CLIENT_APIS, ...ADMIN_APIS],
  kcat: CLIENT_APIS,
  java: [...CLIENT_APIS, ...ADMIN_APIS, A.DescribeCluster],
  'franz-go': [...CLIENT_APIS, A.CreateTopics],
  'kafka-python': CLIENT_APIS,
  'confluent-kafka': [...CLIENT_APIS, ...ADMIN_APIS],
};

// --- loading -------------------------------------------------------------------------------------

const FRAMES = GOLDEN_CLIENTS.flatMap(loadGoldenFrames);
const REQUESTS = FRAMES.filter((f) => f.direction === 'request');
const RESPONSES = FRAMES.filter((f) => f.direction === 'response');

const API_VERSIONS_MAX = (requestSpecs.get(ApiKey.ApiVersions)?.validVersions ?? [0, 0])[1];
/**
 * The highest ApiVersions version the broker served when a client's fixtures were captured. It is
 * part of the recorded answers, not of today's codec: re-capturing (scripts/capture-golden.ts)
 * against a broker that serves v5 makes it API_VERSIONS_MAX, as it is for confluent-kafka's.
 */
function captureApiVersionsMax(client: GoldenClient): number {
  return client === 'confluent-kafka' ? API_VERSIONS_MAX : 4;
}

/**
 * The version a captured response is encoded at: the request's, except that an ApiVersions
 * request above what the broker served at capture time got the v0 fallback answer (KIP-511).
 */
function responseVersion(client: GoldenClient, apiKey: number, requestVersion: number): number {
  return apiKey === ApiKey.ApiVersions && requestVersion > captureApiVersionsMax(client) ? 0 : requestVersion;
}

function body(frame: GoldenFrame): Uint8Array {
  return frame.bytes.subarray(4);
}

function concat(parts: ReturnType<typeof encodeResponse>): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => p as Uint8Array)));
}

// --- frame by frame ------------------------------------------------------------------------------

test.each(GOLDEN_CLIENTS)('%s: the capture names the client versions this file notes', (client) => {
  const index = loadGoldenIndex(client);
  expect(index.client).toBe(client);
  expect(index.versions).toEqual(CAPTURED_WITH[client]);
  const byExchange = new Map<number, string[]>();
  for (const f of index.frames) byExchange.set(f.exchange, [...(byExchange.get(f.exchange) ?? []), f.direction]);
  for (const directions of byExchange.values()) expect(directions).toEqual(['request', 'response']);
});

describe('captured requests decode and re-encode to the same bytes', () => {
  test.each(REQUESTS.map((f) => [`${f.client} ${f.file}`, f] as const))('%s', (_name, f) => {
    const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
    expect(view.getInt32(0)).toBe(f.bytes.length - 4);
    const header = decodeRequestHeader(body(f));
    expect(header).toMatchObject({ apiKey: f.apiKey, apiVersion: f.apiVersion, correlationId: f.correlationId });
    const info = { trailingBytes: -1 };
    const decoded = decodeRequest(header, body(f), info);
    // A frame with bytes after its body re-encodes to the frame without them (size prefix too).
    const expected = new Uint8Array(f.bytes.subarray(0, f.bytes.length - info.trailingBytes));
    new DataView(expected.buffer).setInt32(0, expected.length - 4);
    expect(encodeRequest(header.apiKey, header.apiVersion, header.correlationId, header.clientId, decoded)).toEqual(expected);
  });

  test("only librdkafka >= 2.1's Metadata v9+ all-topics requests carry bytes after the body: 3, read as Kafka reads them", () => {
    const withTrailing: string[] = [];
    for (const f of REQUESTS) {
      const header = decodeRequestHeader(body(f));
      const info = { trailingBytes: 0 };
      const decoded = decodeRequest(header, body(f), info);
      if (info.trailingBytes === 0) continue;
      withTrailing.push(`${f.client} ${f.file}`);
      expect([f.client, f.apiKey, info.trailingBytes], f.file).toEqual(['confluent-kafka', ApiKey.Metadata, 3]);
      expect(header.apiVersion).toBeGreaterThanOrEqual(9);
      // librdkafka's int32 count 0 where a compact null belongs: Kafka reads its first byte as the
      // null topics (all), the next two as false booleans and the third as no tagged fields.
      expect(body(f).subarray(header.bodyOffset, header.bodyOffset + 4)).toEqual(new Uint8Array(4));
      expect(decoded).toMatchObject({ topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    }
    expect(withTrailing.length, 'the confluent-kafka capture holds all-topics Metadata requests').toBeGreaterThan(0);
  });

  test('an ApiVersions request above the served range is a typed UNSUPPORTED_VERSION error', () => {
    const v5 = REQUESTS.find((f) => f.apiKey === ApiKey.ApiVersions && f.apiVersion === API_VERSIONS_MAX);
    expect(v5, 'the captures hold an ApiVersions request at our highest version').toBeDefined();
    // The same frame, relabelled one version higher (the version is bytes 6-7: after the size
    // prefix and the API key).
    const newer = new Uint8Array(v5!.bytes);
    new DataView(newer.buffer).setInt16(6, API_VERSIONS_MAX + 1);
    const header = decodeRequestHeader(newer.subarray(4));
    expect(header.apiVersion).toBe(API_VERSIONS_MAX + 1);
    expect(() => decodeRequest(header, newer.subarray(4))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    expect(() => decodeRequest(header, newer.subarray(4))).toThrow(ProtocolError);
  });
});

describe('captured responses decode and re-encode to the same bytes', () => {
  test.each(RESPONSES.map((f) => [`${f.client} ${f.file}`, f] as const))('%s', (_name, f) => {
    const version = responseVersion(f.client, f.apiKey, f.apiVersion);
    const { correlationId, body: decoded } = decodeResponse(f.apiKey, version, body(f));
    expect(correlationId).toBe(f.correlationId);
    expect(concat(encodeResponse(f.apiKey, version, correlationId, decoded))).toEqual(f.bytes);
  });
});

// --- what the clients said -----------------------------------------------------------------------

interface Decoded {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly file: string;
  readonly header: RequestHeader;
  readonly request: any;
  readonly response: any;
}

function decodedExchanges(client: GoldenClient): Decoded[] {
  const frames = loadGoldenFrames(client);
  const out: Decoded[] = [];
  for (const req of frames.filter((f) => f.direction === 'request')) {
    const res = frames.find((f) => f.direction === 'response' && f.exchange === req.exchange);
    if (res === undefined) throw new Error(`${client} ${req.file}: no response`);
    const header = decodeRequestHeader(body(req));
    out.push({
      apiKey: req.apiKey,
      apiVersion: req.apiVersion,
      file: req.file,
      header,
      request: decodeRequest(header, body(req)),
      response: decodeResponse(req.apiKey, responseVersion(client, req.apiKey, req.apiVersion), body(res)).body,
    });
  }
  return out;
}

const utf8 = new TextDecoder();
const str = (b: Uint8Array | null): string | null => (b === null ? null : utf8.decode(b));

/** The records of a record set, checking each batch's codec and producer id. */
function recordsOf(records: Uint8Array | null, s: GoldenScenario, t: Totals, what: string): GoldenRecord[] {
  if (records === null || records.length === 0) return [];
  const out: GoldenRecord[] = [];
  for (const batch of parseRecordBatches(records, { allowTruncatedTail: true })) {
    expect(batch.compression, `${what}: batch codec`).toBe(s.compression);
    // Idempotent producers stamp the id InitProducerId gave them, and count sequences from 0.
    expect(t.producerIds, `${what}: batch producer id ${batch.producerId}`).toContain(batch.producerId);
    expect(batch.baseSequence, what).toBeGreaterThanOrEqual(0);
    for (const r of batch.records) out.push({ key: str(r.key) as string, value: str(r.value) as string });
  }
  return out;
}

function sortRecords(records: readonly GoldenRecord[]): GoldenRecord[] {
  return [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** A ConsumerProtocolAssignment (classic encoding, any version): topic -> partitions. */
function parseAssignment(bytes: Uint8Array): Map<string, number[]> {
  const out = new Map<string, number[]>();
  if (bytes.length === 0) return out;
  const r = new Reader(bytes);
  r.int16(); // version
  for (let topics = r.int32(); topics > 0; topics--) {
    const name = r.string();
    const partitions: number[] = [];
    for (let n = r.int32(); n > 0; n--) partitions.push(r.int32());
    out.set(name, partitions);
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** What one client's whole capture adds up to, filled in exchange by exchange. */
interface Totals {
  produced: GoldenRecord[];
  fetched: GoldenRecord[];
  topicIds: Map<string, string>;
  committed: Map<number, number>;
  fullAssignments: number;
  adminConfigsSent: boolean;
  /** Handed out by InitProducerId, in this capture. */
  producerIds: number[];
  /** The cluster and node ids clients named in ApiVersions v5 (KIP-1242). */
  expectedNodes: Array<{ clusterId: string; nodeId: number }>;
  /** The cluster and node ids Metadata answers handed out, as JSON. */
  handedOut: Set<string>;
}

function checkExchange(client: GoldenClient, s: GoldenScenario, x: Decoded, t: Totals): void {
  const req = x.request;
  const res = x.response;
  const where = `${client} ${x.file}`;
  const ourTopics = [s.topic, s.adminTopic].filter((n) => n !== null);
  switch (x.apiKey) {
    case A.ApiVersions: {
      const served = x.apiVersion <= captureApiVersionsMax(client);
      expect(res.errorCode, where).toBe(served ? ErrorCode.NONE : ErrorCode.UNSUPPORTED_VERSION);
      expect(res.apiKeys).toContainEqual({ apiKey: A.ApiVersions, minVersion: 0, maxVersion: captureApiVersionsMax(client) });
      expect(res.apiKeys).toContainEqual(expect.objectContaining({ apiKey: A.Produce, minVersion: 0 }));
      const software = SOFTWARE[client];
      if (x.apiVersion >= 3 && software !== null) {
        expect({ name: req.clientSoftwareName, version: req.clientSoftwareVersion }, where).toEqual(software);
      }
      if (x.apiVersion >= 5) {
        // KIP-1242: both unset, or the cluster and node this broker handed out (checked below).
        expect(req.clusterId === null, where).toBe(req.nodeId === -1);
        if (req.clusterId !== null) t.expectedNodes.push({ clusterId: req.clusterId, nodeId: req.nodeId });
      }
      return;
    }
    case A.Metadata: {
      if (req.topics !== null) for (const topic of req.topics) expect(ourTopics, where).toContain(topic.name);
      expect(res.brokers, where).toHaveLength(1);
      const nodeId = res.brokers[0].nodeId;
      if (x.apiVersion >= 2) t.handedOut.add(JSON.stringify({ clusterId: res.clusterId, nodeId }));
      for (const topic of res.topics) {
        // A request for all topics (null) also sees the other clients' topics on this broker.
        if (req.topics !== null)
          expect(
            req.topics.map((r: any) => r.name),
            where,
          ).toContain(topic.name);
        if (!ourTopics.includes(topic.name) || topic.errorCode !== ErrorCode.NONE) continue;
        expect(topic.partitions.map((p: any) => p.partitionIndex).sort(), where).toEqual(range(s.partitions));
        for (const p of topic.partitions) expect(p.leaderId, where).toBe(nodeId);
        if (x.apiVersion >= 10) t.topicIds.set(topic.name, topic.topicId);
      }
      return;
    }
    case A.CreateTopics: {
      for (const topic of req.topics) {
        expect(ourTopics, where).toContain(topic.name);
        expect(topic.numPartitions, where).toBe(s.partitions);
        // (Java's second create, which expects TOPIC_ALREADY_EXISTS, carries no configs.)
        if (topic.configs.length > 0) expect(topic.configs, where).toEqual([{ name: 'retention.ms', value: s.adminTopicRetentionMs }]);
        if (topic.name === s.adminTopic && topic.configs.length > 0) t.adminConfigsSent = true;
      }
      for (const topic of res.topics) {
        expect([ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS], where).toContain(topic.errorCode);
        if (topic.errorCode === ErrorCode.NONE && x.apiVersion >= 5) expect(topic.numPartitions, where).toBe(s.partitions);
        if (topic.errorCode === ErrorCode.NONE && x.apiVersion >= 7) t.topicIds.set(topic.name, topic.topicId);
      }
      return;
    }
    case A.DeleteTopics: {
      const names = x.apiVersion >= 6 ? req.topics.map((topic: any) => topic.name) : req.topicNames;
      expect(names, where).toEqual([s.adminTopic]);
      expect(
        res.responses.map((r: any) => [r.name, r.errorCode]),
        where,
      ).toEqual([[s.adminTopic, ErrorCode.NONE]]);
      return;
    }
    case A.DescribeConfigs: {
      expect(
        req.resources.map((r: any) => [r.resourceType, r.resourceName]),
        where,
      ).toEqual([[2, s.adminTopic]]);
      const result = res.results[0];
      expect(result.errorCode, where).toBe(ErrorCode.NONE);
      expect(result.configs.find((c: any) => c.name === 'retention.ms')?.value, where).toBe(s.adminTopicRetentionMs);
      return;
    }
    case A.DescribeCluster: {
      expect(res.errorCode, where).toBe(ErrorCode.NONE);
      expect(
        res.brokers.map((b: any) => b.brokerId),
        where,
      ).toEqual([res.controllerId]);
      return;
    }
    case A.InitProducerId: {
      expect(req.transactionalId, where).toBeNull();
      expect(res.errorCode, where).toBe(ErrorCode.NONE);
      expect(res.producerId, where).toBeGreaterThanOrEqual(0);
      expect(res.producerEpoch, where).toBe(0);
      t.producerIds.push(res.producerId);
      return;
    }
    case A.Produce: {
      expect(req.acks, where).toBe(s.acks);
      expect(
        req.topicData.map((d: any) => d.name),
        where,
      ).toEqual([s.topic]);
      for (const p of req.topicData[0].partitionData) {
        expect(range(s.partitions), where).toContain(p.index);
        t.produced.push(...recordsOf(p.records, s, t, where));
      }
      for (const p of res.responses[0].partitionResponses) {
        expect(p.errorCode, where).toBe(ErrorCode.NONE);
        expect(p.baseOffset, where).toBeGreaterThanOrEqual(0);
      }
      return;
    }
    case A.Fetch: {
      for (const topic of req.topics) {
        if (x.apiVersion >= 13) {
          expect(t.topicIds.has(s.topic), `${where}: the topic id was handed out earlier`).toBe(true);
          expect(topic.topicId, where).toBe(t.topicIds.get(s.topic));
        } else {
          expect(topic.topic, where).toBe(s.topic);
        }
        for (const p of topic.partitions) expect(range(s.partitions), where).toContain(p.partition);
      }
      expect(res.errorCode, where).toBe(ErrorCode.NONE);
      for (const topic of res.responses) {
        for (const p of topic.partitions) {
          expect(p.errorCode, where).toBe(ErrorCode.NONE);
          t.fetched.push(...recordsOf(p.records, s, t, where));
        }
      }
      return;
    }
    case A.ListOffsets: {
      expect(
        req.topics.map((topic: any) => topic.name),
        where,
      ).toEqual([s.topic]);
      for (const p of req.topics[0].partitions) expect([-1, -2], where).toContain(p.timestamp);
      for (const p of res.topics[0].partitions) {
        expect(p.errorCode, where).toBe(ErrorCode.NONE);
        expect(p.offset, where).toBeGreaterThanOrEqual(0);
      }
      return;
    }
    case A.FindCoordinator: {
      expect(req.keyType, where).toBe(0);
      if (x.apiVersion >= 4) {
        expect(req.coordinatorKeys, where).toEqual([s.group]);
        expect(
          res.coordinators.map((c: any) => [c.key, c.errorCode]),
          where,
        ).toEqual([[s.group, ErrorCode.NONE]]);
      } else {
        expect(req.key, where).toBe(s.group);
        expect(res.errorCode, where).toBe(ErrorCode.NONE);
      }
      return;
    }
    case A.JoinGroup: {
      expect(req.groupId, where).toBe(s.group);
      expect(req.protocolType, where).toBe('consumer');
      expect(req.protocols.length, where).toBeGreaterThan(0);
      expect([ErrorCode.NONE, ErrorCode.MEMBER_ID_REQUIRED], where).toContain(res.errorCode);
      expect(res.memberId, where).not.toBe('');
      if (res.errorCode === ErrorCode.NONE)
        expect(
          req.protocols.map((p: any) => p.name),
          where,
        ).toContain(res.protocolName);
      return;
    }
    case A.SyncGroup: {
      expect(req.groupId, where).toBe(s.group);
      expect(res.errorCode, where).toBe(ErrorCode.NONE);
      const assigned = parseAssignment(res.assignment);
      if ((assigned.get(s.topic) ?? []).length === s.partitions) t.fullAssignments++;
      return;
    }
    case A.Heartbeat: {
      expect(req.groupId, where).toBe(s.group);
      expect([ErrorCode.NONE, ErrorCode.REBALANCE_IN_PROGRESS], where).toContain(res.errorCode);
      return;
    }
    case A.OffsetFetch: {
      const groups = x.apiVersion >= 8 ? req.groups : [{ groupId: req.groupId, topics: req.topics }];
      expect(
        groups.map((g: any) => g.groupId),
        where,
      ).toEqual([s.group]);
      expect(
        groups[0].topics.map((topic: any) => topic.name),
        where,
      ).toEqual([s.topic]);
      const results = x.apiVersion >= 8 ? res.groups[0].topics : res.topics;
      for (const p of results[0].partitions) {
        expect(p.errorCode, where).toBe(ErrorCode.NONE);
        expect(p.committedOffset, where).toBeGreaterThanOrEqual(-1);
      }
      return;
    }
    case A.OffsetCommit: {
      expect(req.groupId, where).toBe(s.group);
      expect(
        req.topics.map((topic: any) => topic.name),
        where,
      ).toEqual([s.topic]);
      for (const p of req.topics[0].partitions) {
        expect(p.committedOffset, where).toBeGreaterThanOrEqual(0);
        t.committed.set(p.partitionIndex, Math.max(t.committed.get(p.partitionIndex) ?? 0, p.committedOffset));
      }
      for (const p of res.topics[0].partitions) expect(p.errorCode, where).toBe(ErrorCode.NONE);
      return;
    }
    case A.LeaveGroup: {
      expect(req.groupId, where).toBe(s.group);
      expect(res.errorCode, where).toBe(ErrorCode.NONE);
      return;
    }
  }
  throw new Error(`${where}: no expectations written for ${apiKeyName(x.apiKey)}; add them here`);
}

describe('the decoded values are what each client was asked to do', () => {
  test.each(GOLDEN_CLIENTS)('%s', (client) => {
    const s = goldenScenario(client);
    const exchanges = decodedExchanges(client);
    const seen = new Set(exchanges.map((x) => x.apiKey));
    for (const apiKey of REQUIRED_APIS[client]) expect(seen.has(apiKey), `${client} captured ${apiKeyName(apiKey)}`).toBe(true);

    const t: Totals = {
      produced: [],
      fetched: [],
      topicIds: new Map(),
      committed: new Map(),
      fullAssignments: 0,
      adminConfigsSent: false,
      producerIds: [],
      expectedNodes: [],
      handedOut: new Set(),
    };
    for (const x of exchanges) checkExchange(client, s, x, t);
    // ApiVersions v5 names only the cluster and node that Metadata described to the client.
    for (const node of t.expectedNodes) expect(t.handedOut, `${client}: ApiVersions v5 names ${JSON.stringify(node)}`).toContain(JSON.stringify(node));

    // Every record the client was given went out in its own batches, and came back in Fetch.
    expect(sortRecords(t.produced)).toEqual(sortRecords(s.records));
    // (kcat reads the topic twice, plainly and in a group: compare distinct records.)
    const distinct = (records: readonly GoldenRecord[]) => new Set(records.map((r) => `${r.key}=${r.value}`));
    expect(distinct(t.fetched)).toEqual(distinct(s.records));
    // The group's one member got every partition and committed past every record.
    expect(t.fullAssignments).toBeGreaterThan(0);
    expect([...t.committed.values()].reduce((a, b) => a + b, 0)).toBe(s.records.length);
    // The admin topic was created with the configs the scenario gives it.
    expect(t.adminConfigsSent).toBe(s.adminTopic !== null);
  });

  test.each(['java', 'franz-go'] as const)('%s opens connections with ApiVersions v5 and names the broker it expects (KIP-1242)', (client) => {
    const v5 = decodedExchanges(client).filter((x) => x.apiKey === A.ApiVersions && x.apiVersion === 5);
    expect(v5.length).toBeGreaterThan(0);
    expect(v5.some((x) => x.request.clusterId !== null && x.request.nodeId >= 0)).toBe(true);
  });

  test('kcat negotiated flexible ApiVersions (v3)', () => {
    expect(
      decodedExchanges('kcat')
        .filter((x) => x.apiKey === A.ApiVersions)
        .map((x) => x.apiVersion),
    ).toContain(3);
  });
});

// --- kafkajs as an oracle ------------------------------------------------------------------------

/** kafkajs's response decoder for (api, version), or null when kafkajs does not implement it. */
function kafkajsDecoder(apiKey: number, version: number): ((data: Buffer) => unknown) | null {
  const name = apiKeyName(apiKey);
  const dir = name.charAt(0).toLowerCase() + name.slice(1);
  try {
    return require(`kafkajs/src/protocol/requests/${dir}/v${version}/response`).decode;
  } catch {
    return null;
  }
}

/** Fetch responses whose batches use a codec kafkajs has built in (it ships gzip only). */
function kafkajsCanReadRecords(f: GoldenFrame): boolean {
  if (f.apiKey !== A.Fetch) return true;
  const { body: decoded } = decodeResponse(f.apiKey, f.apiVersion, body(f));
  return decoded.responses.every((topic: any) =>
    topic.partitions.every(
      (p: any) =>
        p.records === null || parseRecordBatches(p.records, { allowTruncatedTail: true }).every((b) => b.compression === 'none' || b.compression === 'gzip'),
    ),
  );
}

const KAFKAJS_READABLE = RESPONSES.filter(
  (f) => kafkajsDecoder(f.apiKey, responseVersion(f.client, f.apiKey, f.apiVersion)) !== null && kafkajsCanReadRecords(f),
);

test("kafkajs reads every response of its own session and librdkafka's classic ones", () => {
  expect(KAFKAJS_READABLE.filter((f) => f.client === 'kafkajs')).toHaveLength(RESPONSES.filter((f) => f.client === 'kafkajs').length);
  expect(KAFKAJS_READABLE.filter((f) => f.client === 'kcat').length).toBeGreaterThan(10);
});

describe("captured responses, read by kafkajs's own decoders", () => {
  test.each(KAFKAJS_READABLE.map((f) => [`${f.client} ${f.file}`, f] as const))('%s', async (_name, f) => {
    const decode = kafkajsDecoder(f.apiKey, responseVersion(f.client, f.apiKey, f.apiVersion)) as (data: Buffer) => unknown;
    // kafkajs hands its decoders the bytes after the size prefix and the correlation id.
    const data = Buffer.from(f.bytes.subarray(8));
    if (responseVersion(f.client, f.apiKey, f.apiVersion) !== f.apiVersion) {
      // The v0 fallback answer: kafkajs's decoder reads the error code and raises it (that is how
      // kafkajs learns to retry lower), so the oracle's verdict is that very error.
      await expect((async () => decode(data))()).rejects.toMatchObject({ type: 'UNSUPPORTED_VERSION' });
      return;
    }
    const decoded = (await decode(data)) as Record<string, unknown>;
    expect(decoded).toBeTypeOf('object');
    if (typeof decoded.errorCode === 'number') {
      const expected = f.apiKey === A.JoinGroup ? [ErrorCode.NONE, ErrorCode.MEMBER_ID_REQUIRED] : [ErrorCode.NONE];
      expect(expected).toContain(decoded.errorCode);
    }
  });
});

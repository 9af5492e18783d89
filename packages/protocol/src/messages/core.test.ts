// Tests of the core and admin message descriptions.
//
// 1. Well-formedness, without the codec: served version ranges, and the rules of the
//    specification's own generator (tags only in flexible versions, unique tags and names per
//    struct, defaults that fit their type).
// 2. Wire bytes: for every API, a realistic request and response at the lowest and the highest
//    served version, encoded by the codec and compared with the bytes the specification lays out,
//    written here field by field with a deliberately dumb builder (Wire) so each expectation can
//    be checked by hand; then decoded back, absent fields taking the specification's defaults.
import { describe, expect, test } from 'vitest';
import { decodeRequest, decodeRequestHeader, decodeResponse, encodeRequest, encodeResponse } from '../index.ts';
import type { FieldSpec, FieldType, MessageSpec } from '../spec.ts';
import { AlterConfigsRequest, AlterConfigsResponse } from './alter-configs.ts';
import { ApiVersionsRequest, ApiVersionsResponse } from './api-versions.ts';
import { CreatePartitionsRequest, CreatePartitionsResponse } from './create-partitions.ts';
import { CreateTopicsRequest, CreateTopicsResponse } from './create-topics.ts';
import { DeleteRecordsRequest, DeleteRecordsResponse } from './delete-records.ts';
import { DeleteTopicsRequest, DeleteTopicsResponse } from './delete-topics.ts';
import { DescribeClusterRequest, DescribeClusterResponse } from './describe-cluster.ts';
import { DescribeConfigsRequest, DescribeConfigsResponse } from './describe-configs.ts';
import { FetchRequest, FetchResponse } from './fetch.ts';
import { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from './incremental-alter-configs.ts';
import { InitProducerIdRequest, InitProducerIdResponse } from './init-producer-id.ts';
import { ListOffsetsRequest, ListOffsetsResponse } from './list-offsets.ts';
import { MetadataRequest, MetadataResponse } from './metadata.ts';
import { OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from './offset-for-leader-epoch.ts';
import { ProduceRequest, ProduceResponse } from './produce.ts';
import { SaslAuthenticateRequest, SaslAuthenticateResponse } from './sasl-authenticate.ts';
import { SaslHandshakeRequest, SaslHandshakeResponse } from './sasl-handshake.ts';

interface Served {
  readonly request: MessageSpec;
  readonly response: MessageSpec;
  readonly apiKey: number;
  readonly versions: readonly [number, number];
  /** First flexible version per the specification, or null when none is served. */
  readonly flexible: number | null;
}

// The served ranges from the task, and the first flexible version from the specification.
const served: readonly Served[] = [
  { request: ProduceRequest, response: ProduceResponse, apiKey: 0, versions: [3, 11], flexible: 9 },
  { request: FetchRequest, response: FetchResponse, apiKey: 1, versions: [4, 13], flexible: 12 },
  { request: ListOffsetsRequest, response: ListOffsetsResponse, apiKey: 2, versions: [1, 10], flexible: 6 },
  { request: MetadataRequest, response: MetadataResponse, apiKey: 3, versions: [0, 12], flexible: 9 },
  { request: SaslHandshakeRequest, response: SaslHandshakeResponse, apiKey: 17, versions: [0, 1], flexible: null },
  { request: ApiVersionsRequest, response: ApiVersionsResponse, apiKey: 18, versions: [0, 5], flexible: 3 },
  { request: CreateTopicsRequest, response: CreateTopicsResponse, apiKey: 19, versions: [2, 7], flexible: 5 },
  { request: DeleteTopicsRequest, response: DeleteTopicsResponse, apiKey: 20, versions: [1, 6], flexible: 4 },
  { request: DeleteRecordsRequest, response: DeleteRecordsResponse, apiKey: 21, versions: [0, 2], flexible: 2 },
  { request: InitProducerIdRequest, response: InitProducerIdResponse, apiKey: 22, versions: [0, 5], flexible: 2 },
  {
    request: OffsetForLeaderEpochRequest,
    response: OffsetForLeaderEpochResponse,
    apiKey: 23,
    versions: [2, 4],
    flexible: 4,
  },
  { request: DescribeConfigsRequest, response: DescribeConfigsResponse, apiKey: 32, versions: [1, 4], flexible: 4 },
  { request: AlterConfigsRequest, response: AlterConfigsResponse, apiKey: 33, versions: [0, 2], flexible: 2 },
  { request: SaslAuthenticateRequest, response: SaslAuthenticateResponse, apiKey: 36, versions: [0, 2], flexible: 2 },
  { request: CreatePartitionsRequest, response: CreatePartitionsResponse, apiKey: 37, versions: [0, 3], flexible: 2 },
  {
    request: IncrementalAlterConfigsRequest,
    response: IncrementalAlterConfigsResponse,
    apiKey: 44,
    versions: [0, 1],
    flexible: 1,
  },
  { request: DescribeClusterRequest, response: DescribeClusterResponse, apiKey: 60, versions: [0, 1], flexible: 0 },
];

const specs: readonly MessageSpec[] = served.flatMap((s) => [s.request, s.response]);

/** Parses the specification's version syntax into an inclusive range; 'none' is null. */
function parseVersions(versions: string): [number, number] | null {
  if (versions === 'none') return null;
  let match = /^(\d+)\+$/.exec(versions);
  if (match) return [Number(match[1]), Number.POSITIVE_INFINITY];
  match = /^(\d+)-(\d+)$/.exec(versions);
  if (match) {
    const low = Number(match[1]);
    const high = Number(match[2]);
    if (high < low) throw new Error(`empty version range '${versions}'`);
    return [low, high];
  }
  match = /^(\d+)$/.exec(versions);
  if (match) return [Number(match[1]), Number(match[1])];
  throw new Error(`malformed version range '${versions}'`);
}

function intersect(a: [number, number] | null, b: [number, number] | null): [number, number] | null {
  if (a === null || b === null) return null;
  const low = Math.max(a[0], b[0]);
  const high = Math.min(a[1], b[1]);
  return low <= high ? [low, high] : null;
}

function nestedFields(type: FieldType): readonly FieldSpec[] | null {
  if (typeof type === 'string') return null;
  if ('arrayOfStruct' in type) return type.arrayOfStruct;
  if ('struct' in type) return type.struct;
  return null;
}

const INT_RANGES: Record<string, [number, number]> = {
  int8: [-(2 ** 7), 2 ** 7 - 1],
  int16: [-(2 ** 15), 2 ** 15 - 1],
  uint16: [0, 2 ** 16 - 1],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Every rule one field breaks, as readable messages; `path` names the field. */
function fieldProblems(field: FieldSpec, path: string, served: [number, number], flexible: number | null): string[] {
  const problems: string[] = [];
  if (!/^[a-z][A-Za-z0-9]*$/.test(field.name)) problems.push(`${path}: name is not camelCase`);

  const present = intersect(parseVersions(field.versions), served);
  if (present === null) problems.push(`${path}: present in no served version (${field.versions})`);

  const type = field.type;
  const nullableKind = typeof type !== 'string' || type === 'string' || type === 'bytes' || type === 'records';
  if (field.nullableVersions !== undefined) {
    if (!nullableKind) problems.push(`${path}: ${String(type)} cannot be nullable`);
    parseVersions(field.nullableVersions);
  }
  const nullableSomewhere = field.nullableVersions !== undefined && intersect(parseVersions(field.nullableVersions), present) !== null;

  if ((field.tag === undefined) !== (field.taggedVersions === undefined)) {
    problems.push(`${path}: tag and taggedVersions must come together`);
  }
  if (field.taggedVersions !== undefined) {
    const tagged = parseVersions(field.taggedVersions);
    const flexibleRange: [number, number] | null = flexible === null ? null : [flexible, Number.POSITIVE_INFINITY];
    if (tagged === null || flexibleRange === null || intersect(tagged, flexibleRange)?.[0] !== tagged[0]) {
      problems.push(`${path}: tagged outside flexible versions`);
    }
    // The specification's generator requires a tagged field to be tagged wherever it exists.
    if (field.taggedVersions !== field.versions) problems.push(`${path}: taggedVersions differ from versions`);
    if (!Number.isInteger(field.tag) || (field.tag ?? -1) < 0) problems.push(`${path}: bad tag ${field.tag}`);
  }

  if (field.default !== undefined) {
    const value = field.default;
    if (value === null) {
      if (!nullableSomewhere) problems.push(`${path}: null default on a field never nullable`);
    } else if (typeof type === 'string' && type in INT_RANGES) {
      const [low, high] = INT_RANGES[type];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < low || value > high) {
        problems.push(`${path}: default ${String(value)} does not fit ${type}`);
      }
    } else if (type === 'bool') {
      if (typeof value !== 'boolean') problems.push(`${path}: default is not a boolean`);
    } else if (type === 'string') {
      if (typeof value !== 'string') problems.push(`${path}: default is not a string`);
    } else if (typeof type !== 'string' && ('arrayOf' in type || 'arrayOfStruct' in type)) {
      if (!Array.isArray(value) || value.length !== 0) problems.push(`${path}: array default must be []`);
    } else {
      problems.push(`${path}: unexpected default for ${JSON.stringify(type)}`);
    }
  }

  const nested = nestedFields(type);
  if (nested !== null) problems.push(...structProblems(nested, path, present ?? served, flexible));
  return problems;
}

/** Names and tags must be unique within one struct level. */
function structProblems(fields: readonly FieldSpec[], path: string, served: [number, number], flexible: number | null): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  const tags = new Set<number>();
  for (const field of fields) {
    if (names.has(field.name)) problems.push(`${path}.${field.name}: duplicate name`);
    names.add(field.name);
    if (field.tag !== undefined) {
      if (tags.has(field.tag)) problems.push(`${path}.${field.name}: duplicate tag ${field.tag}`);
      tags.add(field.tag);
    }
    problems.push(...fieldProblems(field, `${path}.${field.name}`, served, flexible));
  }
  return problems;
}

describe('core and admin message descriptions', () => {
  test.each(served.map((s) => [s.request.name, s] as const))('%s: key, versions, flexible versions', (_, s) => {
    for (const spec of [s.request, s.response]) {
      expect(spec.apiKey).toBe(s.apiKey);
      expect(spec.name).toBe(s.request.name);
      expect(spec.validVersions).toEqual(s.versions);
      expect(spec.flexibleVersions).toBe(s.flexible);
    }
    expect(s.request.type).toBe('request');
    expect(s.response.type).toBe('response');
  });

  test.each(specs.map((spec) => [`${spec.name}${spec.type === 'request' ? 'Request' : 'Response'}`, spec] as const))('%s is well formed', (_, spec) => {
    const range: [number, number] = [spec.validVersions[0], spec.validVersions[1]];
    expect(structProblems(spec.fields, spec.name, range, spec.flexibleVersions)).toEqual([]);
  });

  test('the checker itself rejects the slips it is meant to catch', () => {
    const flexibleFrom = 9;
    const served: [number, number] = [3, 11];
    const bad = (field: FieldSpec) => fieldProblems(field, 'f', served, flexibleFrom);
    expect(bad({ name: 'x', type: 'int32', versions: '12+' })).toEqual(['f: present in no served version (12+)']);
    expect(bad({ name: 'x', type: 'int32', versions: '3+', taggedVersions: '3+', tag: 0 })).toContain('f: tagged outside flexible versions');
    expect(bad({ name: 'x', type: 'int8', versions: '3+', default: 200 })).toEqual(['f: default 200 does not fit int8']);
    expect(bad({ name: 'x', type: 'string', versions: '3+', default: null })).toEqual(['f: null default on a field never nullable']);
    expect(bad({ name: 'X', type: 'bool', versions: '3+' })).toEqual(['f: name is not camelCase']);
    expect(
      structProblems(
        [
          { name: 'a', type: 'int32', versions: '9+', taggedVersions: '9+', tag: 0 },
          { name: 'b', type: 'int32', versions: '9+', taggedVersions: '9+', tag: 0 },
        ],
        's',
        served,
        flexibleFrom,
      ),
    ).toEqual(['s.b: duplicate tag 0']);
  });
});

// --- wire bytes ------------------------------------------------------------------------------

/**
 * Lays out bytes the way the specification describes them, one primitive at a time. Classic
 * versions: int16-length strings, int32-length bytes and arrays (-1 for null). Flexible versions:
 * unsigned-varint length + 1 (0 for null) and a tagged-field section closing every struct.
 */
class Wire {
  readonly #out: number[] = [];
  readonly flexible: boolean;

  constructor(flexible: boolean) {
    this.flexible = flexible;
  }

  int8(v: number): this {
    this.#out.push(v & 0xff);
    return this;
  }

  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }

  int32(v: number): this {
    return this.int16(v >> 16).int16(v);
  }

  int64(v: number): this {
    const u = BigInt.asUintN(64, BigInt(v));
    for (let shift = 56n; shift >= 0n; shift -= 8n) this.#out.push(Number((u >> shift) & 0xffn));
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  uvarint(v: number): this {
    while (v >= 0x80) {
      this.#out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.#out.push(v);
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.#out.push(...bytes);
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.flexible ? this.uvarint(0) : this.int16(-1);
    const utf8 = new TextEncoder().encode(s);
    if (this.flexible) this.uvarint(utf8.length + 1);
    else this.int16(utf8.length);
    return this.raw(utf8);
  }

  bytes(b: Uint8Array | null): this {
    if (b === null) return this.flexible ? this.uvarint(0) : this.int32(-1);
    if (this.flexible) this.uvarint(b.length + 1);
    else this.int32(b.length);
    return this.raw(b);
  }

  /** An array's element count (the elements follow). */
  count(n: number | null): this {
    if (n === null) return this.flexible ? this.uvarint(0) : this.int32(-1);
    return this.flexible ? this.uvarint(n + 1) : this.int32(n);
  }

  uuid(hex: string): this {
    for (let i = 0; i < 32; i += 2) this.#out.push(Number.parseInt(hex.slice(i, i + 2), 16));
    return this;
  }

  /** A struct's tagged-field section (flexible versions only): [tag, contents] in tag order. */
  tags(...fields: Array<readonly [number, Wire]>): this {
    if (!this.flexible) {
      if (fields.length > 0) throw new Error('tagged fields in a classic version');
      return this;
    }
    this.uvarint(fields.length);
    for (const [tag, contents] of fields) this.uvarint(tag).uvarint(contents.encoded.length).raw(contents.encoded);
    return this;
  }

  get encoded(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}

const tagged = (): Wire => new Wire(true);

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

interface WireCase {
  readonly apiKey: number;
  readonly version: number;
  readonly body: Record<string, unknown>;
  /** The body's bytes as the specification lays them out. */
  readonly wire: (w: Wire) => Wire;
  /** The decoded body, when fields absent in this version come back with their defaults. */
  readonly decoded?: Record<string, unknown>;
}

const ZERO_UUID = '00000000000000000000000000000000';
const ORDERS_ID = 'b8a1f4c2d93e4f6a8c0e1d2f3a4b5c6d';
const EVENTS_ID = '5f0c9e1a2b3c4d5e6f708192a3b4c5d6';
const AUTHORIZED_OPERATIONS_UNKNOWN = -2147483648;
/** A record set is opaque to the codec; these bytes only have to come back unchanged. */
const RECORDS = Uint8Array.from({ length: 70 }, (_, i) => (i * 37 + 11) & 0xff);
const PLAIN_TOKEN = new TextEncoder().encode('\u0000alice\u0000secret');

const requestCases: readonly WireCase[] = [
  // ApiVersions
  {
    apiKey: 18,
    version: 0,
    body: {},
    wire: (w) => w,
    decoded: { clientSoftwareName: '', clientSoftwareVersion: '', clusterId: null, nodeId: -1 },
  },
  {
    apiKey: 18,
    version: 4,
    body: { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.3.0' },
    wire: (w) => w.string('librdkafka').string('2.3.0').tags(),
    decoded: { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.3.0', clusterId: null, nodeId: -1 },
  },
  {
    // KIP-1242: the cluster and node the client means to reach, plain fields after the software.
    apiKey: 18,
    version: 5,
    body: { clientSoftwareName: 'kgo', clientSoftwareVersion: 'v1.22.2', clusterId: 'B0cyur1VTllEFqTfCnQeiQ', nodeId: 1 },
    wire: (w) => w.string('kgo').string('v1.22.2').string('B0cyur1VTllEFqTfCnQeiQ').int32(1).tags(),
  },
  {
    apiKey: 18,
    version: 5,
    body: { clientSoftwareName: 'kgo', clientSoftwareVersion: 'v1.22.2', clusterId: null, nodeId: -1 },
    wire: (w) => w.string('kgo').string('v1.22.2').string(null).int32(-1).tags(),
  },
  // Metadata
  {
    apiKey: 3,
    version: 0,
    body: { topics: [{ name: 'orders' }] },
    wire: (w) => w.count(1).string('orders'),
    decoded: {
      topics: [{ topicId: ZERO_UUID, name: 'orders' }],
      allowAutoTopicCreation: true, // absent before v4: the specification's default
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    },
  },
  {
    // From v1 a null topic list asks for every topic.
    apiKey: 3,
    version: 1,
    body: { topics: null },
    wire: (w) => w.count(null),
    decoded: {
      topics: null,
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    },
  },
  {
    apiKey: 3,
    version: 12,
    body: {
      topics: [{ topicId: ORDERS_ID, name: null }],
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: true,
    },
    wire: (w) => w.count(1).uuid(ORDERS_ID).string(null).tags().bool(false).bool(true).tags(),
    decoded: {
      topics: [{ topicId: ORDERS_ID, name: null }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false, // v8-10 only
      includeTopicAuthorizedOperations: true,
    },
  },
  // Produce
  {
    apiKey: 0,
    version: 3,
    body: {
      transactionalId: null,
      acks: -1,
      timeoutMs: 30000,
      topicData: [{ name: 'orders', partitionData: [{ index: 0, records: RECORDS }] }],
    },
    wire: (w) => w.string(null).int16(-1).int32(30000).count(1).string('orders').count(1).int32(0).bytes(RECORDS),
  },
  {
    apiKey: 0,
    version: 11,
    body: {
      transactionalId: 'payments-tx',
      acks: 1,
      timeoutMs: 1500,
      topicData: [
        {
          name: 'orders',
          partitionData: [
            { index: 2, records: RECORDS },
            { index: 3, records: null },
          ],
        },
      ],
    },
    wire: (w) =>
      w.string('payments-tx').int16(1).int32(1500).count(1).string('orders').count(2).int32(2).bytes(RECORDS).tags().int32(3).bytes(null).tags().tags().tags(),
  },
  // Fetch
  {
    apiKey: 1,
    version: 4,
    body: {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, fetchOffset: 100, partitionMaxBytes: 1048576 }] }],
    },
    wire: (w) => w.int32(-1).int32(500).int32(1).int32(52428800).int8(1).count(1).string('orders').count(1).int32(0).int64(100).int32(1048576),
    decoded: {
      clusterId: null,
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'orders',
          topicId: ZERO_UUID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: -1,
              fetchOffset: 100,
              lastFetchedEpoch: -1,
              logStartOffset: -1,
              partitionMaxBytes: 1048576,
            },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
  },
  {
    apiKey: 1,
    version: 13,
    body: {
      clusterId: 'c1',
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topicId: ORDERS_ID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 5,
              fetchOffset: 100,
              lastFetchedEpoch: 4,
              logStartOffset: -1,
              partitionMaxBytes: 1048576,
            },
          ],
        },
      ],
      forgottenTopicsData: [{ topicId: EVENTS_ID, partitions: [1, 2] }],
      rackId: 'rack-a',
    },
    wire: (w) =>
      w
        .int32(-1)
        .int32(500)
        .int32(1)
        .int32(52428800)
        .int8(0)
        .int32(0)
        .int32(-1)
        .count(1)
        .uuid(ORDERS_ID)
        .count(1)
        .int32(0)
        .int32(5)
        .int64(100)
        .int32(4)
        .int64(-1)
        .int32(1048576)
        .tags()
        .tags()
        .count(1)
        .uuid(EVENTS_ID)
        .count(2)
        .int32(1)
        .int32(2)
        .tags()
        .string('rack-a')
        .tags([0, tagged().string('c1')]),
    decoded: {
      clusterId: 'c1',
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: '', // names are gone from v13
          topicId: ORDERS_ID,
          partitions: [
            {
              partition: 0,
              currentLeaderEpoch: 5,
              fetchOffset: 100,
              lastFetchedEpoch: 4,
              logStartOffset: -1,
              partitionMaxBytes: 1048576,
            },
          ],
        },
      ],
      forgottenTopicsData: [{ topic: '', topicId: EVENTS_ID, partitions: [1, 2] }],
      rackId: 'rack-a',
    },
  },
  // ListOffsets
  {
    apiKey: 2,
    version: 1,
    body: { replicaId: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, timestamp: -1 }] }] },
    wire: (w) => w.int32(-1).count(1).string('orders').count(1).int32(0).int64(-1),
    decoded: {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }],
      timeoutMs: 0, // v10+
    },
  },
  {
    apiKey: 2,
    version: 7,
    body: {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -3 }] }],
    },
    wire: (w) => w.int32(-1).int8(1).count(1).string('orders').count(1).int32(0).int32(5).int64(-3).tags().tags().tags(),
    decoded: {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: 5, timestamp: -3 }] }],
      timeoutMs: 0, // v10+
    },
  },
  {
    apiKey: 2,
    version: 10,
    body: {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -4 }] }],
      timeoutMs: 30000,
    },
    wire: (w) => w.int32(-1).int8(0).count(1).string('orders').count(1).int32(0).int32(-1).int64(-4).tags().tags().int32(30000).tags(),
  },
  // CreateTopics
  {
    apiKey: 19,
    version: 2,
    body: {
      topics: [
        {
          name: 'orders',
          numPartitions: 3,
          replicationFactor: 1,
          assignments: [],
          configs: [{ name: 'retention.ms', value: '86400000' }],
        },
      ],
      timeoutMs: 30000,
      validateOnly: false,
    },
    wire: (w) => w.count(1).string('orders').int32(3).int16(1).count(0).count(1).string('retention.ms').string('86400000').int32(30000).bool(false),
  },
  {
    apiKey: 19,
    version: 7,
    body: {
      topics: [
        {
          name: 'orders',
          numPartitions: -1,
          replicationFactor: -1,
          assignments: [{ partitionIndex: 0, brokerIds: [1] }],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      timeoutMs: 60000,
      validateOnly: true,
    },
    wire: (w) =>
      w
        .count(1)
        .string('orders')
        .int32(-1)
        .int16(-1)
        .count(1)
        .int32(0)
        .count(1)
        .int32(1)
        .tags()
        .count(1)
        .string('cleanup.policy')
        .string('compact')
        .tags()
        .tags()
        .int32(60000)
        .bool(true)
        .tags(),
  },
  // DeleteTopics
  {
    apiKey: 20,
    version: 1,
    body: { topicNames: ['orders', 'events'], timeoutMs: 30000 },
    wire: (w) => w.count(2).string('orders').string('events').int32(30000),
    decoded: { topics: [], topicNames: ['orders', 'events'], timeoutMs: 30000 },
  },
  {
    apiKey: 20,
    version: 6,
    body: {
      topics: [
        { name: 'orders', topicId: ZERO_UUID },
        { name: null, topicId: EVENTS_ID },
      ],
      timeoutMs: 30000,
    },
    wire: (w) => w.count(2).string('orders').uuid(ZERO_UUID).tags().string(null).uuid(EVENTS_ID).tags().int32(30000).tags(),
    decoded: {
      topics: [
        { name: 'orders', topicId: ZERO_UUID },
        { name: null, topicId: EVENTS_ID },
      ],
      topicNames: [],
      timeoutMs: 30000,
    },
  },
  // CreatePartitions
  {
    apiKey: 37,
    version: 0,
    body: { topics: [{ name: 'orders', count: 6, assignments: null }], timeoutMs: 30000, validateOnly: false },
    wire: (w) => w.count(1).string('orders').int32(6).count(null).int32(30000).bool(false),
  },
  {
    apiKey: 37,
    version: 3,
    body: {
      topics: [{ name: 'orders', count: 4, assignments: [{ brokerIds: [1] }] }],
      timeoutMs: 30000,
      validateOnly: true,
    },
    wire: (w) => w.count(1).string('orders').int32(4).count(1).count(1).int32(1).tags().tags().int32(30000).bool(true).tags(),
  },
  // DeleteRecords
  {
    apiKey: 21,
    version: 0,
    body: { topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 100 }] }], timeoutMs: 30000 },
    wire: (w) => w.count(1).string('orders').count(1).int32(0).int64(100).int32(30000),
  },
  {
    apiKey: 21,
    version: 2,
    body: { topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, offset: -1 }] }], timeoutMs: 30000 },
    wire: (w) => w.count(1).string('orders').count(1).int32(1).int64(-1).tags().tags().int32(30000).tags(),
  },
  // DescribeConfigs
  {
    apiKey: 32,
    version: 1,
    body: {
      resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: null }],
      includeSynonyms: true,
    },
    wire: (w) => w.count(1).int8(2).string('orders').count(null).bool(true),
    decoded: {
      resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: null }],
      includeSynonyms: true,
      includeDocumentation: false,
    },
  },
  {
    apiKey: 32,
    version: 4,
    body: {
      resources: [{ resourceType: 4, resourceName: '1', configurationKeys: ['log.retention.ms'] }],
      includeSynonyms: false,
      includeDocumentation: true,
    },
    wire: (w) => w.count(1).int8(4).string('1').count(1).string('log.retention.ms').tags().bool(false).bool(true).tags(),
  },
  // AlterConfigs
  {
    apiKey: 33,
    version: 0,
    body: {
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            { name: 'retention.ms', value: '3600000' },
            { name: 'segment.ms', value: null },
          ],
        },
      ],
      validateOnly: false,
    },
    wire: (w) => w.count(1).int8(2).string('orders').count(2).string('retention.ms').string('3600000').string('segment.ms').string(null).bool(false),
  },
  {
    apiKey: 33,
    version: 2,
    body: { resources: [{ resourceType: 4, resourceName: '1', configs: [] }], validateOnly: true },
    wire: (w) => w.count(1).int8(4).string('1').count(0).tags().bool(true).tags(),
  },
  // IncrementalAlterConfigs
  {
    apiKey: 44,
    version: 0,
    body: {
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            { name: 'retention.ms', configOperation: 0, value: '3600000' },
            { name: 'cleanup.policy', configOperation: 1, value: null },
          ],
        },
      ],
      validateOnly: false,
    },
    wire: (w) =>
      w.count(1).int8(2).string('orders').count(2).string('retention.ms').int8(0).string('3600000').string('cleanup.policy').int8(1).string(null).bool(false),
  },
  {
    apiKey: 44,
    version: 1,
    body: {
      resources: [{ resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', configOperation: 0, value: '3600000' }] }],
      validateOnly: true,
    },
    wire: (w) => w.count(1).int8(2).string('orders').count(1).string('retention.ms').int8(0).string('3600000').tags().tags().bool(true).tags(),
  },
  // DescribeCluster
  {
    apiKey: 60,
    version: 0,
    body: { includeClusterAuthorizedOperations: false },
    wire: (w) => w.bool(false).tags(),
    decoded: { includeClusterAuthorizedOperations: false, endpointType: 1 },
  },
  {
    apiKey: 60,
    version: 1,
    body: { includeClusterAuthorizedOperations: true, endpointType: 1 },
    wire: (w) => w.bool(true).int8(1).tags(),
  },
  // OffsetForLeaderEpoch
  {
    apiKey: 23,
    version: 2,
    body: { topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] }] },
    wire: (w) => w.count(1).string('orders').count(1).int32(0).int32(5).int32(4),
    decoded: {
      replicaId: -2, // absent before v3: the "debug consumer"
      topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] }],
    },
  },
  {
    apiKey: 23,
    version: 4,
    body: {
      replicaId: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] }],
    },
    wire: (w) => w.int32(-1).count(1).string('orders').count(1).int32(0).int32(5).int32(4).tags().tags().tags(),
  },
  // InitProducerId
  {
    apiKey: 22,
    version: 0,
    body: { transactionalId: null, transactionTimeoutMs: 60000 },
    wire: (w) => w.string(null).int32(60000),
    decoded: { transactionalId: null, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 },
  },
  {
    apiKey: 22,
    version: 5,
    body: { transactionalId: 'payments-tx', transactionTimeoutMs: 60000, producerId: 4000, producerEpoch: 2 },
    wire: (w) => w.string('payments-tx').int32(60000).int64(4000).int16(2).tags(),
  },
  // SaslHandshake
  { apiKey: 17, version: 0, body: { mechanism: 'PLAIN' }, wire: (w) => w.string('PLAIN') },
  { apiKey: 17, version: 1, body: { mechanism: 'SCRAM-SHA-256' }, wire: (w) => w.string('SCRAM-SHA-256') },
  // SaslAuthenticate
  { apiKey: 36, version: 0, body: { authBytes: PLAIN_TOKEN }, wire: (w) => w.bytes(PLAIN_TOKEN) },
  { apiKey: 36, version: 2, body: { authBytes: PLAIN_TOKEN }, wire: (w) => w.bytes(PLAIN_TOKEN).tags() },
];

const responseCases: readonly WireCase[] = [
  // ApiVersions
  {
    apiKey: 18,
    version: 0,
    body: {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
    },
    wire: (w) => w.int16(0).count(2).int16(0).int16(0).int16(11).int16(18).int16(0).int16(4),
    decoded: {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1,
      finalizedFeatures: [],
      zkMigrationReady: false,
    },
  },
  {
    apiKey: 18,
    version: 4,
    body: {
      errorCode: 0,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 20 }],
      finalizedFeaturesEpoch: 5,
      finalizedFeatures: [],
      zkMigrationReady: false,
    },
    wire: (w) =>
      w
        .int16(0)
        .count(1)
        .int16(18)
        .int16(0)
        .int16(4)
        .tags()
        .int32(0)
        .tags([0, tagged().count(1).string('metadata.version').int16(1).int16(20).tags()], [1, tagged().int64(5)]),
  },
  {
    // v5 answers like v4; here the KIP-1242 refusal, which lists no APIs.
    apiKey: 18,
    version: 5,
    body: { errorCode: 129, apiKeys: [], throttleTimeMs: 0 },
    wire: (w) => w.int16(129).count(0).int32(0).tags(),
    decoded: {
      errorCode: 129,
      apiKeys: [],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1,
      finalizedFeatures: [],
      zkMigrationReady: false,
    },
  },
  // Metadata
  {
    apiKey: 3,
    version: 0,
    body: {
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092 }],
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }],
        },
      ],
    },
    wire: (w) =>
      w
        .count(1)
        .int32(1)
        .string('localhost')
        .int32(9092)
        .count(1)
        .int16(0)
        .string('orders')
        .count(1)
        .int16(0)
        .int32(0)
        .int32(1)
        .count(1)
        .int32(1)
        .count(1)
        .int32(1),
    decoded: {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: null,
      controllerId: -1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          topicId: ZERO_UUID,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: -1,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
        },
      ],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
    },
  },
  {
    apiKey: 3,
    version: 12,
    body: {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'sluice-cluster',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          topicId: ORDERS_ID,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 0,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(1)
        .int32(1)
        .string('localhost')
        .int32(9092)
        .string(null)
        .tags()
        .string('sluice-cluster')
        .int32(1)
        .count(1)
        .int16(0)
        .string('orders')
        .uuid(ORDERS_ID)
        .bool(false)
        .count(1)
        .int16(0)
        .int32(0)
        .int32(1)
        .int32(0)
        .count(1)
        .int32(1)
        .count(1)
        .int32(1)
        .count(0)
        .tags()
        .int32(AUTHORIZED_OPERATIONS_UNKNOWN)
        .tags()
        .tags(),
    decoded: {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'sluice-cluster',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          topicId: ORDERS_ID,
          isInternal: false,
          partitions: [
            {
              errorCode: 0,
              partitionIndex: 0,
              leaderId: 1,
              leaderEpoch: 0,
              replicaNodes: [1],
              isrNodes: [1],
              offlineReplicas: [],
            },
          ],
          topicAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
        },
      ],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN, // v8-10 only
    },
  },
  // Produce
  {
    apiKey: 0,
    version: 3,
    body: {
      responses: [{ name: 'orders', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1 }] }],
      throttleTimeMs: 0,
    },
    wire: (w) => w.count(1).string('orders').count(1).int32(0).int16(0).int64(42).int64(-1).int32(0),
    decoded: {
      responses: [
        {
          name: 'orders',
          partitionResponses: [
            {
              index: 0,
              errorCode: 0,
              baseOffset: 42,
              logAppendTimeMs: -1,
              logStartOffset: -1,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [],
    },
  },
  {
    apiKey: 0,
    version: 11,
    body: {
      responses: [
        {
          name: 'orders',
          partitionResponses: [
            {
              // INVALID_RECORD: the batch was dropped because of its fourth record.
              index: 0,
              errorCode: 87,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: -1,
              recordErrors: [{ batchIndex: 3, batchIndexErrorMessage: 'null key on a compacted topic' }],
              errorMessage: 'one record was rejected',
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
            },
            {
              // NOT_LEADER_OR_FOLLOWER, with the new leader (KIP-951).
              index: 1,
              errorCode: 6,
              baseOffset: -1,
              logAppendTimeMs: -1,
              logStartOffset: -1,
              recordErrors: [],
              errorMessage: null,
              currentLeader: { leaderId: 2, leaderEpoch: 7 },
            },
          ],
        },
      ],
      throttleTimeMs: 0,
      nodeEndpoints: [{ nodeId: 2, host: 'broker-2', port: 9092, rack: null }],
    },
    wire: (w) =>
      w
        .count(1)
        .string('orders')
        .count(2)
        .int32(0)
        .int16(87)
        .int64(-1)
        .int64(-1)
        .int64(-1)
        .count(1)
        .int32(3)
        .string('null key on a compacted topic')
        .tags()
        .string('one record was rejected')
        .tags()
        .int32(1)
        .int16(6)
        .int64(-1)
        .int64(-1)
        .int64(-1)
        .count(0)
        .string(null)
        .tags([0, tagged().int32(2).int32(7).tags()])
        .tags()
        .int32(0)
        .tags([0, tagged().count(1).int32(2).string('broker-2').int32(9092).string(null).tags()]),
  },
  // Fetch
  {
    apiKey: 1,
    version: 4,
    body: {
      throttleTimeMs: 0,
      responses: [
        {
          topic: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 150,
              lastStableOffset: 150,
              abortedTransactions: null,
              records: RECORDS,
            },
          ],
        },
      ],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int32(0).int16(0).int64(150).int64(150).count(null).bytes(RECORDS),
    decoded: {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [
        {
          topic: 'orders',
          topicId: ZERO_UUID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 150,
              lastStableOffset: 150,
              logStartOffset: -1,
              divergingEpoch: { epoch: -1, endOffset: -1 },
              currentLeader: { leaderId: -1, leaderEpoch: -1 },
              snapshotId: { endOffset: -1, epoch: -1 },
              abortedTransactions: null,
              preferredReadReplica: -1,
              records: RECORDS,
            },
          ],
        },
      ],
    },
  },
  {
    apiKey: 1,
    version: 13,
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 123,
      responses: [
        {
          topicId: ORDERS_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 150,
              lastStableOffset: 140,
              logStartOffset: 0,
              divergingEpoch: { epoch: -1, endOffset: -1 },
              currentLeader: { leaderId: 1, leaderEpoch: 5 },
              snapshotId: { endOffset: -1, epoch: -1 },
              abortedTransactions: [{ producerId: 7, firstOffset: 120 }],
              preferredReadReplica: -1,
              records: RECORDS,
            },
          ],
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .int16(0)
        .int32(123)
        .count(1)
        .uuid(ORDERS_ID)
        .count(1)
        .int32(0)
        .int16(0)
        .int64(150)
        .int64(140)
        .int64(0)
        .count(1)
        .int64(7)
        .int64(120)
        .tags()
        .int32(-1)
        .bytes(RECORDS)
        // Only currentLeader differs from its default; divergingEpoch and snapshotId stay off the wire.
        .tags([1, tagged().int32(1).int32(5).tags()])
        .tags()
        .tags(),
    decoded: {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 123,
      responses: [
        {
          topic: '',
          topicId: ORDERS_ID,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              highWatermark: 150,
              lastStableOffset: 140,
              logStartOffset: 0,
              divergingEpoch: { epoch: -1, endOffset: -1 },
              currentLeader: { leaderId: 1, leaderEpoch: 5 },
              snapshotId: { endOffset: -1, epoch: -1 },
              abortedTransactions: [{ producerId: 7, firstOffset: 120 }],
              preferredReadReplica: -1,
              records: RECORDS,
            },
          ],
        },
      ],
    },
  },
  // ListOffsets
  {
    apiKey: 2,
    version: 1,
    body: {
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 150 }] }],
    },
    wire: (w) => w.count(1).string('orders').count(1).int32(0).int16(0).int64(-1).int64(150),
    decoded: {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: 150, leaderEpoch: -1 }] }],
    },
  },
  {
    apiKey: 2,
    version: 10,
    body: {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: -1, offset: -1, leaderEpoch: -1 }] }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int32(0).int16(0).int64(-1).int64(-1).int32(-1).tags().tags().tags(),
  },
  {
    apiKey: 2,
    version: 7,
    body: {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          partitions: [{ partitionIndex: 0, errorCode: 0, timestamp: 1700000000123, offset: 149, leaderEpoch: 5 }],
        },
      ],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int32(0).int16(0).int64(1700000000123).int64(149).int32(5).tags().tags().tags(),
  },
  // CreateTopics
  {
    apiKey: 19,
    version: 2,
    body: {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', errorCode: 36, errorMessage: "Topic 'orders' already exists." }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').int16(36).string("Topic 'orders' already exists."),
    decoded: {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          topicId: ZERO_UUID,
          errorCode: 36,
          errorMessage: "Topic 'orders' already exists.",
          topicConfigErrorCode: 0,
          numPartitions: -1,
          replicationFactor: -1,
          configs: [], // the specification's default for this nullable list is empty, not null
        },
      ],
    },
  },
  {
    apiKey: 19,
    version: 7,
    body: {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          topicId: ORDERS_ID,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 0,
          numPartitions: 3,
          replicationFactor: 1,
          configs: [{ name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false }],
        },
        {
          // Created, but the caller may not read its configs: the config error is a tagged field.
          name: 'audit',
          topicId: EVENTS_ID,
          errorCode: 0,
          errorMessage: null,
          topicConfigErrorCode: 29,
          numPartitions: 1,
          replicationFactor: 1,
          configs: null,
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(2)
        .string('orders')
        .uuid(ORDERS_ID)
        .int16(0)
        .string(null)
        .int32(3)
        .int16(1)
        .count(1)
        .string('cleanup.policy')
        .string('delete')
        .bool(false)
        .int8(5)
        .bool(false)
        .tags()
        .tags()
        .string('audit')
        .uuid(EVENTS_ID)
        .int16(0)
        .string(null)
        .int32(1)
        .int16(1)
        .count(null)
        .tags([0, tagged().int16(29)])
        .tags(),
  },
  // DeleteTopics
  {
    apiKey: 20,
    version: 1,
    body: { throttleTimeMs: 0, responses: [{ name: 'orders', errorCode: 0 }] },
    wire: (w) => w.int32(0).count(1).string('orders').int16(0),
    decoded: {
      throttleTimeMs: 0,
      responses: [{ name: 'orders', topicId: ZERO_UUID, errorCode: 0, errorMessage: null }],
    },
  },
  {
    apiKey: 20,
    version: 6,
    body: {
      throttleTimeMs: 0,
      responses: [
        { name: 'orders', topicId: ORDERS_ID, errorCode: 0, errorMessage: null },
        { name: null, topicId: EVENTS_ID, errorCode: 100, errorMessage: 'This server does not host this topic ID.' },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(2)
        .string('orders')
        .uuid(ORDERS_ID)
        .int16(0)
        .string(null)
        .tags()
        .string(null)
        .uuid(EVENTS_ID)
        .int16(100)
        .string('This server does not host this topic ID.')
        .tags()
        .tags(),
  },
  // CreatePartitions
  {
    apiKey: 37,
    version: 0,
    body: { throttleTimeMs: 0, results: [{ name: 'orders', errorCode: 0, errorMessage: null }] },
    wire: (w) => w.int32(0).count(1).string('orders').int16(0).string(null),
  },
  {
    apiKey: 37,
    version: 3,
    body: {
      throttleTimeMs: 0,
      results: [{ name: 'orders', errorCode: 37, errorMessage: 'Topic already has 6 partitions.' }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').int16(37).string('Topic already has 6 partitions.').tags().tags(),
  },
  // DeleteRecords
  {
    apiKey: 21,
    version: 0,
    body: {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, lowWatermark: 100, errorCode: 0 }] }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int32(0).int64(100).int16(0),
  },
  {
    apiKey: 21,
    version: 2,
    body: {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, lowWatermark: 150, errorCode: 0 }] }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int32(1).int64(150).int16(0).tags().tags().tags(),
  },
  // DescribeConfigs
  {
    apiKey: 32,
    version: 1,
    body: {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            {
              name: 'retention.ms',
              value: '604800000',
              readOnly: false,
              configSource: 5,
              isSensitive: false,
              synonyms: [{ name: 'log.retention.ms', value: '604800000', source: 5 }],
            },
          ],
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(1)
        .int16(0)
        .string(null)
        .int8(2)
        .string('orders')
        .count(1)
        .string('retention.ms')
        .string('604800000')
        .bool(false)
        .int8(5)
        .bool(false)
        .count(1)
        .string('log.retention.ms')
        .string('604800000')
        .int8(5),
    decoded: {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            {
              name: 'retention.ms',
              value: '604800000',
              readOnly: false,
              configSource: 5,
              isSensitive: false,
              synonyms: [{ name: 'log.retention.ms', value: '604800000', source: 5 }],
              configType: 0,
              documentation: '', // the specification's default: empty, not null
            },
          ],
        },
      ],
    },
  },
  {
    apiKey: 32,
    version: 4,
    body: {
      throttleTimeMs: 0,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 4,
          resourceName: '1',
          configs: [
            {
              name: 'log.retention.ms',
              value: null,
              readOnly: false,
              configSource: 5,
              isSensitive: false,
              synonyms: [],
              configType: 5,
              documentation: 'How long to keep a log segment before deleting it.',
            },
          ],
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(1)
        .int16(0)
        .string(null)
        .int8(4)
        .string('1')
        .count(1)
        .string('log.retention.ms')
        .string(null)
        .bool(false)
        .int8(5)
        .bool(false)
        .count(0)
        .int8(5)
        .string('How long to keep a log segment before deleting it.')
        .tags()
        .tags()
        .tags(),
  },
  // AlterConfigs
  {
    apiKey: 33,
    version: 0,
    body: { throttleTimeMs: 7, responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' }] },
    wire: (w) => w.int32(7).count(1).int16(0).string(null).int8(2).string('orders'),
  },
  {
    apiKey: 33,
    version: 2,
    body: {
      throttleTimeMs: 0,
      responses: [{ errorCode: 42, errorMessage: 'Each resource must appear at most once.', resourceType: 2, resourceName: 'orders' }],
    },
    wire: (w) => w.int32(0).count(1).int16(42).string('Each resource must appear at most once.').int8(2).string('orders').tags().tags(),
  },
  // IncrementalAlterConfigs
  {
    apiKey: 44,
    version: 0,
    body: { throttleTimeMs: 0, responses: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' }] },
    wire: (w) => w.int32(0).count(1).int16(0).string(null).int8(2).string('orders'),
  },
  {
    apiKey: 44,
    version: 1,
    body: {
      throttleTimeMs: 0,
      responses: [{ errorCode: 40, errorMessage: 'Unknown topic config name: retention.mss', resourceType: 2, resourceName: 'orders' }],
    },
    wire: (w) => w.int32(0).count(1).int16(40).string('Unknown topic config name: retention.mss').int8(2).string('orders').tags().tags(),
  },
  // DescribeCluster
  {
    apiKey: 60,
    version: 0,
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      clusterId: 'sluice-cluster',
      controllerId: 1,
      brokers: [{ brokerId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
    },
    wire: (w) =>
      w
        .int32(0)
        .int16(0)
        .string(null)
        .string('sluice-cluster')
        .int32(1)
        .count(1)
        .int32(1)
        .string('localhost')
        .int32(9092)
        .string(null)
        .tags()
        .int32(AUTHORIZED_OPERATIONS_UNKNOWN)
        .tags(),
    decoded: {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'sluice-cluster',
      controllerId: 1,
      brokers: [{ brokerId: 1, host: 'localhost', port: 9092, rack: null }],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
    },
  },
  {
    apiKey: 60,
    version: 1,
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      endpointType: 1,
      clusterId: 'sluice-cluster',
      controllerId: 1,
      brokers: [{ brokerId: 1, host: 'localhost', port: 9092, rack: 'rack-a' }],
      clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_UNKNOWN,
    },
    wire: (w) =>
      w
        .int32(0)
        .int16(0)
        .string(null)
        .int8(1)
        .string('sluice-cluster')
        .int32(1)
        .count(1)
        .int32(1)
        .string('localhost')
        .int32(9092)
        .string('rack-a')
        .tags()
        .int32(AUTHORIZED_OPERATIONS_UNKNOWN)
        .tags(),
  },
  // OffsetForLeaderEpoch
  {
    apiKey: 23,
    version: 2,
    body: {
      throttleTimeMs: 0,
      topics: [{ topic: 'orders', partitions: [{ errorCode: 0, partition: 0, leaderEpoch: 4, endOffset: 120 }] }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int16(0).int32(0).int32(4).int64(120),
  },
  {
    apiKey: 23,
    version: 4,
    body: {
      throttleTimeMs: 0,
      topics: [{ topic: 'orders', partitions: [{ errorCode: 74, partition: 0, leaderEpoch: -1, endOffset: -1 }] }],
    },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int16(74).int32(0).int32(-1).int64(-1).tags().tags().tags(),
  },
  // InitProducerId
  {
    apiKey: 22,
    version: 0,
    body: { throttleTimeMs: 0, errorCode: 0, producerId: 1000, producerEpoch: 0 },
    wire: (w) => w.int32(0).int16(0).int64(1000).int16(0),
  },
  {
    apiKey: 22,
    version: 5,
    body: { throttleTimeMs: 0, errorCode: 0, producerId: 4000, producerEpoch: 3 },
    wire: (w) => w.int32(0).int16(0).int64(4000).int16(3).tags(),
  },
  // SaslHandshake
  {
    apiKey: 17,
    version: 0,
    body: { errorCode: 0, mechanisms: ['PLAIN', 'SCRAM-SHA-256'] },
    wire: (w) => w.int16(0).count(2).string('PLAIN').string('SCRAM-SHA-256'),
  },
  {
    apiKey: 17,
    version: 1,
    body: { errorCode: 33, mechanisms: ['PLAIN'] },
    wire: (w) => w.int16(33).count(1).string('PLAIN'),
  },
  // SaslAuthenticate
  {
    apiKey: 36,
    version: 0,
    body: { errorCode: 0, errorMessage: null, authBytes: new Uint8Array(0) },
    wire: (w) => w.int16(0).string(null).bytes(new Uint8Array(0)),
    decoded: { errorCode: 0, errorMessage: null, authBytes: new Uint8Array(0), sessionLifetimeMs: 0 },
  },
  {
    apiKey: 36,
    version: 2,
    body: { errorCode: 0, errorMessage: null, authBytes: new Uint8Array(0), sessionLifetimeMs: 3600000 },
    wire: (w) => w.int16(0).string(null).bytes(new Uint8Array(0)).int64(3600000).tags(),
  },
];

function servedFor(apiKey: number): Served {
  const s = served.find((x) => x.apiKey === apiKey);
  if (s === undefined) throw new Error(`API key ${apiKey} is not one of these messages`);
  return s;
}

function isFlexibleVersion(apiKey: number, version: number): boolean {
  const { flexible } = servedFor(apiKey);
  return flexible !== null && version >= flexible;
}

function caseName(c: WireCase): string {
  return `${servedFor(c.apiKey).request.name} v${c.version}`;
}

function int32At(bytes: Uint8Array, pos: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(pos);
}

const CLIENT_ID = 'core-test';
const CORRELATION_ID = 0x01020304;

describe('wire bytes of the core and admin messages', () => {
  test('every API is covered at its lowest and highest served version, both directions', () => {
    for (const cases of [requestCases, responseCases]) {
      for (const s of served) {
        const versions = cases.filter((c) => c.apiKey === s.apiKey).map((c) => c.version);
        expect(versions, s.request.name).toContain(s.versions[0]);
        expect(versions, s.request.name).toContain(s.versions[1]);
      }
    }
  });

  test.each(requestCases.map((c) => [caseName(c), c] as const))('%s request', (_, c) => {
    const flexible = isFlexibleVersion(c.apiKey, c.version);
    const frame = encodeRequest(c.apiKey, c.version, CORRELATION_ID, CLIENT_ID, c.body);
    expect(int32At(frame, 0)).toBe(frame.length - 4);
    const payload = frame.subarray(4);

    // Header v1, or v2 (one more byte: an empty tagged-field section) for flexible versions.
    const header = decodeRequestHeader(payload);
    expect(header).toEqual({
      apiKey: c.apiKey,
      apiVersion: c.version,
      correlationId: CORRELATION_ID,
      clientId: CLIENT_ID,
      headerVersion: flexible ? 2 : 1,
      bodyOffset: 2 + 2 + 4 + 2 + CLIENT_ID.length + (flexible ? 1 : 0),
    });

    expect(hex(payload.subarray(header.bodyOffset))).toBe(hex(c.wire(new Wire(flexible)).encoded));
    expect(decodeRequest(header, payload)).toEqual(c.decoded ?? c.body);
  });

  test.each(responseCases.map((c) => [caseName(c), c] as const))('%s response', (_, c) => {
    const flexible = isFlexibleVersion(c.apiKey, c.version);
    const parts = encodeResponse(c.apiKey, c.version, CORRELATION_ID, c.body);
    expect(parts).toHaveLength(1);
    const frame = parts[0] as Uint8Array;
    expect(int32At(frame, 0)).toBe(frame.length - 4);
    expect(int32At(frame, 4)).toBe(CORRELATION_ID);

    // Header v0 (the correlation id alone), or v1 with an empty tagged-field section for flexible
    // versions - except ApiVersions, whose response header is v0 at every version.
    const headerV1 = flexible && c.apiKey !== 18;
    if (headerV1) expect(frame[8]).toBe(0);
    const bodyStart = 8 + (headerV1 ? 1 : 0);

    expect(hex(frame.subarray(bodyStart))).toBe(hex(c.wire(new Wire(flexible)).encoded));
    expect(decodeResponse(c.apiKey, c.version, frame.subarray(4))).toEqual({
      correlationId: CORRELATION_ID,
      body: c.decoded ?? c.body,
    });
  });

  test('an ApiVersions v3 request as librdkafka sends it, byte for byte', () => {
    // Size 36. Header v2: key 18, version 3, correlation id 1, client id "rdkafka" (int16 length
    // even in header v2), no tags. Body: compact "librdkafka", compact "2.3.0", no tags.
    const frameHex = [
      '00000024',
      '0012',
      '0003',
      '00000001',
      '0007',
      '72646b61666b61', // rdkafka
      '00',
      '0b',
      '6c696272646b61666b61', // librdkafka
      '06',
      '322e332e30', // 2.3.0
      '00',
    ].join('');
    const frame = Uint8Array.from(frameHex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    expect(frame).toHaveLength(40);

    const body = { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.3.0' };
    expect(hex(encodeRequest(18, 3, 1, 'rdkafka', body))).toBe(frameHex);
    const payload = frame.subarray(4);
    const header = decodeRequestHeader(payload);
    expect(header).toMatchObject({ apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka', headerVersion: 2 });
    expect(decodeRequest(header, payload)).toEqual({ ...body, clusterId: null, nodeId: -1 });
  });
});

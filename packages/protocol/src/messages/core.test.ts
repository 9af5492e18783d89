// Checks on the core and admin message descriptions that do not need the codec: served version
// ranges, and the well-formedness rules of the specification's own generator (tags only in
// flexible versions, unique tags and names per struct, defaults that fit their type). A slip in
// a hand-transcribed description usually breaks one of these.
import { describe, expect, test } from 'vitest';
import type { FieldSpec, FieldType, MessageSpec } from '../spec.ts';
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
  { request: ListOffsetsRequest, response: ListOffsetsResponse, apiKey: 2, versions: [1, 7], flexible: 6 },
  { request: MetadataRequest, response: MetadataResponse, apiKey: 3, versions: [0, 12], flexible: 9 },
  { request: SaslHandshakeRequest, response: SaslHandshakeResponse, apiKey: 17, versions: [0, 1], flexible: null },
  { request: ApiVersionsRequest, response: ApiVersionsResponse, apiKey: 18, versions: [0, 4], flexible: 3 },
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
  const nullableSomewhere =
    field.nullableVersions !== undefined && intersect(parseVersions(field.nullableVersions), present) !== null;

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
function structProblems(
  fields: readonly FieldSpec[],
  path: string,
  served: [number, number],
  flexible: number | null,
): string[] {
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

  test.each(specs.map((spec) => [`${spec.name}${spec.type === 'request' ? 'Request' : 'Response'}`, spec] as const))(
    '%s is well formed',
    (_, spec) => {
      const range: [number, number] = [spec.validVersions[0], spec.validVersions[1]];
      expect(structProblems(spec.fields, spec.name, range, spec.flexibleVersions)).toEqual([]);
    },
  );

  test('the checker itself rejects the slips it is meant to catch', () => {
    const flexibleFrom = 9;
    const served: [number, number] = [3, 11];
    const bad = (field: FieldSpec) => fieldProblems(field, 'f', served, flexibleFrom);
    expect(bad({ name: 'x', type: 'int32', versions: '12+' })).toEqual(['f: present in no served version (12+)']);
    expect(bad({ name: 'x', type: 'int32', versions: '3+', taggedVersions: '3+', tag: 0 })).toContain(
      'f: tagged outside flexible versions',
    );
    expect(bad({ name: 'x', type: 'int8', versions: '3+', default: 200 })).toEqual(['f: default 200 does not fit int8']);
    expect(bad({ name: 'x', type: 'string', versions: '3+', default: null })).toEqual([
      'f: null default on a field never nullable',
    ]);
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

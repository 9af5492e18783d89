import { describe, expect, test } from 'vitest';
import type { MessageSpec } from './spec.ts';
import { isFlexible, isServed, requestSpecs, validateMessageSpec } from './registry.ts';

// The served ranges and first flexible versions the broker is built against.
const SERVED: Record<string, [number, number, number | null]> = {
  ApiVersions: [0, 5, 3],
  Metadata: [0, 12, 9],
  Produce: [3, 11, 9],
  Fetch: [4, 13, 12],
  ListOffsets: [1, 10, 6],
  CreateTopics: [2, 7, 5],
  DeleteTopics: [1, 6, 4],
  CreatePartitions: [0, 3, 2],
  DeleteRecords: [0, 2, 2],
  DescribeConfigs: [1, 4, 4],
  AlterConfigs: [0, 2, 2],
  IncrementalAlterConfigs: [0, 1, 1],
  DescribeCluster: [0, 1, 0],
  FindCoordinator: [0, 5, 3],
  JoinGroup: [2, 9, 6],
  SyncGroup: [0, 5, 4],
  Heartbeat: [0, 4, 4],
  LeaveGroup: [0, 5, 4],
  OffsetCommit: [2, 9, 8],
  OffsetFetch: [1, 9, 6],
  ListGroups: [0, 5, 3],
  DescribeGroups: [0, 5, 5],
  DeleteGroups: [0, 2, 2],
  InitProducerId: [0, 5, 2],
  OffsetForLeaderEpoch: [2, 4, 4],
  SaslHandshake: [0, 1, null],
  SaslAuthenticate: [0, 2, 2],
  ConsumerGroupHeartbeat: [0, 1, 0],
  ConsumerGroupDescribe: [0, 1, 0],
  ShareGroupHeartbeat: [1, 1, 1],
  ShareGroupDescribe: [1, 1, 1],
  ShareFetch: [1, 2, 1],
  ShareAcknowledge: [1, 2, 1],
  DescribeShareGroupOffsets: [0, 0, 0],
  AlterShareGroupOffsets: [0, 0, 0],
  DeleteShareGroupOffsets: [0, 0, 0],
  AddPartitionsToTxn: [0, 5, 3],
  AddOffsetsToTxn: [0, 4, 3],
  EndTxn: [0, 5, 3],
  WriteTxnMarkers: [1, 2, 1],
  TxnOffsetCommit: [0, 5, 3],
  DescribeProducers: [0, 0, 0],
  DescribeTransactions: [0, 0, 0],
  ListTransactions: [0, 2, 0],
  DescribeAcls: [0, 3, 2],
  CreateAcls: [0, 3, 2],
  DeleteAcls: [0, 3, 2],
  DescribeUserScramCredentials: [0, 0, 0],
  AlterUserScramCredentials: [0, 0, 0],
  DescribeClientQuotas: [0, 1, 1],
  AlterClientQuotas: [0, 1, 1],
  DescribeLogDirs: [1, 5, 2],
  ElectLeaders: [0, 2, 2],
  AlterPartitionReassignments: [0, 1, 0],
  ListPartitionReassignments: [0, 0, 0],
  OffsetDelete: [0, 0, null],
  UpdateFeatures: [0, 2, 0],
};

describe('registry', () => {
  test('serves exactly the agreed APIs and ranges', () => {
    const got = Object.fromEntries([...requestSpecs.values()].map((s) => [s.name, [...s.validVersions, s.flexibleVersions]]));
    expect(got).toEqual(SERVED);
  });

  test('isFlexible / isServed', () => {
    expect(isFlexible(0, 8)).toBe(false);
    expect(isFlexible(0, 9)).toBe(true);
    expect(isFlexible(0, 12)).toBe(true); // above the range: still flexible, as in Kafka
    expect(isFlexible(17, 1)).toBe(false);
    expect(isFlexible(999, 5)).toBe(false);
    expect(isServed(0, 2)).toBe(false);
    expect(isServed(0, 3)).toBe(true);
    expect(isServed(0, 12)).toBe(false);
  });
});

describe('validateMessageSpec catches transcription slips', () => {
  const base: MessageSpec = {
    apiKey: 12,
    name: 'Heartbeat',
    type: 'request',
    validVersions: [0, 4],
    flexibleVersions: 4,
    fields: [{ name: 'groupId', type: 'string', versions: '0+' }],
  };
  const withFields = (fields: MessageSpec['fields']): MessageSpec => ({ ...base, fields });

  test('a well-formed description passes', () => {
    expect(() => validateMessageSpec(base)).not.toThrow();
  });

  test.each([
    ['wrong API key for the name', { ...base, apiKey: 13 }, /API key 13 is LeaveGroup/],
    ['empty version range', { ...base, validVersions: [3, 2] as const }, /validVersions/],
    ['duplicate field', withFields([base.fields[0], base.fields[0]]), /duplicate field/],
    ['bad field name', withFields([{ name: 'group-id', type: 'string', versions: '0+' }]), /invalid field name/],
    ['bad version syntax', withFields([{ name: 'a', type: 'int8', versions: '0++' }]), /invalid version range/],
    ['unknown type', withFields([{ name: 'a', type: 'int128' as never, versions: '0+' }]), /unknown type/],
    ['tagged in a non-flexible version', withFields([{ name: 'a', type: 'int8', versions: '0+', taggedVersions: '2+', tag: 0 }]), /non-flexible/],
    [
      'duplicate tag',
      withFields([
        { name: 'a', type: 'int8', versions: '4+', taggedVersions: '4+', tag: 0 },
        { name: 'b', type: 'int8', versions: '4+', taggedVersions: '4+', tag: 0 },
      ]),
      /duplicate tag/,
    ],
    ['null default on a non-nullable field', withFields([{ name: 'a', type: 'string', versions: '0+', default: null }]), /never nullable/],
    ['default out of range', withFields([{ name: 'a', type: 'int8', versions: '0+', default: 300 }]), /not a int8/],
    ['default of the wrong type', withFields([{ name: 'a', type: 'bool', versions: '0+', default: 'true' }]), /not a boolean/],
    [
      'nested problem',
      withFields([{ name: 'a', type: { arrayOfStruct: [{ name: 'x', type: 'int16', versions: '0+', default: 1.5 }] }, versions: '0+' }]),
      /a\[\]\.x/,
    ],
  ])('%s', (_what, spec, message) => {
    expect(() => validateMessageSpec(spec as MessageSpec)).toThrow(message);
  });
});

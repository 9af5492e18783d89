// Kafka's byte formats of the consumer group records, checked against bytes worked out by hand
// from Kafka's message definitions, and round trips.

import { describe, expect, test } from 'vitest';
import {
  decodeConsumerKey,
  decodeCurrentMemberAssignmentValue,
  decodeMemberMetadataValue,
  decodePartitionMetadataValue,
  decodeRegularExpressionValue,
  decodeTargetAssignmentMemberValue,
  encodeConsumerKey,
  encodeCurrentMemberAssignmentValue,
  encodeGroupEpochValue,
  encodeMemberMetadataValue,
  encodePartitionMetadataValue,
  encodeRegularExpressionValue,
  encodeTargetAssignmentMemberValue,
} from './consumer-records.ts';
import { RecordFormatError } from './records.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const TOPIC = '000102030405060708090a0b0c0d0e0f';

describe('consumer group records', () => {
  test('keys: int16 type, then int16-length strings', () => {
    expect(hex(encodeConsumerKey(3, 'g'))).toBe('0003000167');
    expect(hex(encodeConsumerKey(8, 'g', 'm'))).toBe('00080001670001' + '6d');
    expect(hex(encodeConsumerKey(16, 'g', 'a.*'))).toBe('0010000167' + '0003612e2a');
    expect(decodeConsumerKey(encodeConsumerKey(7, 'grp', 'member'))).toEqual({ kind: 'consumer', type: 7, group: 'grp', sub: 'member' });
    expect(() => decodeConsumerKey(Uint8Array.from([0, 5, 0, 1, 0x67]))).toThrow(RecordFormatError);
  });

  test('ConsumerGroupMetadataValue: version 0, int32 epoch, empty tagged fields', () => {
    expect(hex(encodeGroupEpochValue(5))).toBe('0000' + '00000005' + '00');
  });

  test('ConsumerGroupCurrentMemberAssignmentValue: flexible arrays of (uuid, []int32)', () => {
    const bytes = encodeCurrentMemberAssignmentValue({
      memberEpoch: 2,
      previousMemberEpoch: 1,
      state: 'unrevoked_partitions',
      assignedPartitions: new Map([[TOPIC, new Set([0])]]),
      partitionsPendingRevocation: new Map(),
    });
    expect(hex(bytes)).toBe('0000' + '00000002' + '00000001' + '02' + '02' + TOPIC + '02' + '00000000' + '00' + '01' + '00');
    expect(decodeCurrentMemberAssignmentValue(bytes)).toEqual({
      memberEpoch: 2,
      previousMemberEpoch: 1,
      state: 'unrevoked_partitions',
      assignedPartitions: new Map([[TOPIC, new Set([0])]]),
      partitionsPendingRevocation: new Map(),
    });
  });

  test('the other values round-trip', () => {
    const member = {
      instanceId: null,
      rackId: 'r1',
      clientId: 'c',
      clientHost: '/h',
      subscribedTopicNames: ['a', 'b'],
      subscribedTopicRegex: null,
      rebalanceTimeoutMs: 300000,
      serverAssignor: 'range',
    };
    expect(decodeMemberMetadataValue(encodeMemberMetadataValue(member))).toEqual(member);
    const topics = [{ id: TOPIC, name: 't', partitionCount: 3 }];
    expect(decodePartitionMetadataValue(encodePartitionMetadataValue(topics))).toEqual(topics);
    const target = new Map([[TOPIC, new Set([1, 2])]]);
    expect(decodeTargetAssignmentMemberValue(encodeTargetAssignmentMemberValue(target))).toEqual(target);
    const regex = { topics: ['x', 'y'], version: 3, timestamp: 1_700_000_000_000 };
    expect(decodeRegularExpressionValue(encodeRegularExpressionValue(regex))).toEqual(regex);
  });

  test("unknown tagged fields (Kafka's classic member metadata) are skipped", () => {
    const plain = encodeMemberMetadataValue({
      instanceId: null,
      rackId: null,
      clientId: 'c',
      clientHost: 'h',
      subscribedTopicNames: [],
      subscribedTopicRegex: null,
      rebalanceTimeoutMs: 1,
      serverAssignor: null,
    });
    // Replace the empty tagged-field section with one tag 0 field of 2 bytes.
    const tagged = Uint8Array.from([...plain.subarray(0, plain.length - 1), 1, 0, 2, 0xab, 0xcd]);
    expect(decodeMemberMetadataValue(tagged).clientId).toBe('c');
  });
});

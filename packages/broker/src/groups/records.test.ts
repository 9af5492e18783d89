import { describe, expect, test } from 'vitest';
import { groupPartition, javaStringHashCode, kafkaAbs } from './partitioning.ts';
import {
  decodeGroupValue,
  decodeKey,
  decodeOffsetValue,
  encodeGroupKey,
  encodeGroupValue,
  encodeOffsetKey,
  encodeOffsetValue,
  RecordFormatError,
} from './records.ts';

describe('group partitioning (Java String.hashCode)', () => {
  test('matches values Java computes', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('Aa')).toBe(2112);
    // Wraps around in 32 bits, as Java's int arithmetic does.
    expect(javaStringHashCode('console-consumer-group')).toBe(210291998);
    expect(javaStringHashCode('my-consumer-group-0')).toBe(-1322913908);
    // UTF-16 code units, not code points: U+1F600 is the surrogate pair D83D DE00.
    expect(javaStringHashCode('\u{1F600}')).toBe(0xd83d * 31 + 0xde00);
    // The famous string whose hashCode is Integer.MIN_VALUE.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
  });

  test("Kafka's Utils.abs maps Integer.MIN_VALUE to 0", () => {
    expect(kafkaAbs(-2147483648)).toBe(0);
    expect(kafkaAbs(-5)).toBe(5);
    expect(groupPartition('polygenelubricants', 50)).toBe(0);
    expect(groupPartition('test', 50)).toBe(3556498 % 50);
    expect(groupPartition('console-consumer-group', 50)).toBe(210291998 % 50);
    expect(groupPartition('my-consumer-group-0', 50)).toBe(1322913908 % 50);
  });
});

describe('offsets log records', () => {
  test('an offset key has the documented bytes', () => {
    expect([...encodeOffsetKey('g', 'ab', 258)]).toEqual([0, 1, 0, 1, 0x67, 0, 2, 0x61, 0x62, 0, 0, 1, 2]);
    expect(decodeKey(encodeOffsetKey('g', 'ab', 258))).toEqual({ kind: 'offset', group: 'g', topic: 'ab', partition: 258 });
  });

  test('a group key has the documented bytes', () => {
    expect([...encodeGroupKey('gé')]).toEqual([0, 2, 0, 3, 0x67, 0xc3, 0xa9]);
    expect(decodeKey(encodeGroupKey('gé'))).toEqual({ kind: 'group', group: 'gé' });
  });

  test('an offset value round-trips and has the documented layout', () => {
    const value = { offset: 2 ** 40 + 7, leaderEpoch: -1, metadata: 'meta', commitTimestamp: 1_700_000_000_123, expireTimestamp: -1 };
    const bytes = encodeOffsetValue(value);
    expect(bytes.length).toBe(2 + 8 + 4 + 2 + 4 + 8 + 8);
    expect([...bytes.subarray(0, 2)]).toEqual([0, 1]);
    expect(decodeOffsetValue(bytes)).toEqual(value);
  });

  test('a group value round-trips with members, bytes and nulls', () => {
    const value = {
      protocolType: 'consumer',
      generation: 7,
      protocolName: 'range',
      leader: 'm1',
      currentStateTimestamp: 1_700_000_000_000,
      members: [
        {
          memberId: 'm1',
          groupInstanceId: null,
          clientId: 'c1',
          clientHost: '/127.0.0.1',
          rebalanceTimeoutMs: 60000,
          sessionTimeoutMs: 10000,
          subscription: Uint8Array.from([1, 2]),
          assignment: Uint8Array.from([3]),
        },
        {
          memberId: 'm2',
          groupInstanceId: 'i2',
          clientId: 'c2',
          clientHost: '/127.0.0.2',
          rebalanceTimeoutMs: 1,
          sessionTimeoutMs: 2,
          subscription: new Uint8Array(0),
          assignment: new Uint8Array(0),
        },
      ],
    };
    expect(decodeGroupValue(encodeGroupValue(value))).toEqual(value);
    const empty = { protocolType: null, generation: 0, protocolName: null, leader: null, currentStateTimestamp: -1, members: [] };
    expect(decodeGroupValue(encodeGroupValue(empty))).toEqual(empty);
  });

  test('corrupt or unknown records are refused', () => {
    expect(() => decodeKey(Uint8Array.from([0, 9, 0, 0]))).toThrow(RecordFormatError);
    expect(() => decodeKey(encodeOffsetKey('g', 't', 1).subarray(0, 6))).toThrow(/truncated/);
    expect(() => decodeOffsetValue(Uint8Array.from([0, 2]))).toThrow(/version 2/);
    const trailing = new Uint8Array([...encodeGroupKey('g'), 0]);
    expect(() => decodeKey(trailing)).toThrow(/trailing/);
    const hugeCount = encodeGroupValue({ protocolType: null, generation: 0, protocolName: null, leader: null, currentStateTimestamp: -1, members: [] });
    new DataView(hugeCount.buffer).setInt32(hugeCount.length - 4, 1_000_000);
    expect(() => decodeGroupValue(hugeCount)).toThrow(/members/);
  });

  test('strings come back exactly, a leading U+FEFF included', () => {
    expect(decodeKey(encodeGroupKey('\uFEFFg'))).toEqual({ kind: 'group', group: '\uFEFFg' });
  });

  test('bad strings, bytes and int64 values are RecordFormatErrors naming the record part', () => {
    // keyVersion 2, then a string of 2 bytes that are not UTF-8.
    expect(() => decodeKey(Uint8Array.from([0, 2, 0, 2, 0xc3, 0x28]))).toThrow(/group record key has a string that is not UTF-8/);
    expect(() => decodeKey(Uint8Array.from([0, 2, 0xff, 0xfe]))).toThrow(/group record key has string length -2/);
    expect(() => decodeKey(Uint8Array.from([0, 2, 0xff, 0xff]))).toThrow(/null where a string is required/);
    const offset = encodeOffsetValue({ offset: 0, leaderEpoch: 0, metadata: '', commitTimestamp: 0, expireTimestamp: -1 });
    new DataView(offset.buffer).setBigInt64(2, 2n ** 53n + 1n);
    expect(() => decodeOffsetValue(offset)).toThrow(/committed offset value holds int64 9007199254740993 beyond 2\^53/);
    const member = {
      memberId: 'm',
      groupInstanceId: null,
      clientId: 'c',
      clientHost: 'h',
      rebalanceTimeoutMs: 1,
      sessionTimeoutMs: 1,
      subscription: new Uint8Array(0),
      assignment: new Uint8Array(0),
    };
    const group = encodeGroupValue({ protocolType: null, generation: 0, protocolName: null, leader: null, currentStateTimestamp: -1, members: [member] });
    new DataView(group.buffer).setInt32(group.length - 4, -3);
    expect(() => decodeGroupValue(group)).toThrow(/group metadata value has bytes length -3/);
    expect(() => decodeGroupValue(group.subarray(0, group.length - 2))).toThrow(/group metadata value is truncated at byte \d+/);
  });

  test('values that cannot be stored are bugs, not format errors', () => {
    expect(() => encodeGroupKey('x'.repeat(0x8000))).toThrow(/^BUG: .*32767/);
    expect(() => encodeOffsetValue({ offset: 2 ** 53, leaderEpoch: 0, metadata: '', commitTimestamp: 0, expireTimestamp: -1 })).toThrow(/^BUG: int64/);
  });
});

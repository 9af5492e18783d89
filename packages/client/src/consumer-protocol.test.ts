import { describe, expect, it } from 'vitest';
import { MalformedBytesError } from './bytes.ts';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from './consumer-protocol.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

// Golden bytes written by kafkajs 2.2.4's AssignerProtocol (MemberMetadata / MemberAssignment, v0).
const KAFKAJS_SUBSCRIPTION_V0 = '00000000000200066f726465727300056175646974000000027564';
const KAFKAJS_ASSIGNMENT_V0 = '00000000000200066f726465727300000002000000000000000200056175646974000000010000000100000000';

describe('ConsumerProtocol subscription', () => {
  it('writes v0 byte-for-byte like kafkajs', () => {
    const bytes = encodeSubscription({ topics: ['orders', 'audit'], userData: new TextEncoder().encode('ud') }, 0);
    expect(hex(bytes)).toBe(KAFKAJS_SUBSCRIPTION_V0);
  });

  it('reads kafkajs v0', () => {
    const s = decodeSubscription(fromHex(KAFKAJS_SUBSCRIPTION_V0));
    expect(s.version).toBe(0);
    expect(s.topics).toEqual(['orders', 'audit']);
    expect(new TextDecoder().decode(s.userData!)).toBe('ud');
    expect(s.ownedPartitions).toEqual([]);
    expect(s.generationId).toBe(-1);
    expect(s.rackId).toBeNull();
  });

  it('lays out v3 fields in order: owned partitions, generation, rack', () => {
    const bytes = encodeSubscription({ topics: ['t'], ownedPartitions: [{ topic: 't', partitions: [4] }], generationId: 7, rackId: 'r1' }, 3);
    expect(hex(bytes)).toBe(
      [
        '0003', // version
        '00000001',
        '0001',
        '74', // topics ['t']
        'ffffffff', // userData null
        '00000001',
        '0001',
        '74',
        '00000001',
        '00000004', // owned [{t,[4]}]
        '00000007', // generationId
        '0002',
        '7231', // rackId 'r1'
      ].join(''),
    );
    expect(decodeSubscription(bytes)).toEqual({
      version: 3,
      topics: ['t'],
      userData: null,
      ownedPartitions: [{ topic: 't', partitions: [4] }],
      generationId: 7,
      rackId: 'r1',
    });
  });

  it('reads a newer version by ignoring fields appended after the ones it knows', () => {
    const v3 = encodeSubscription({ topics: ['x'], generationId: 2 }, 3);
    const v9 = new Uint8Array([...v3, 0xde, 0xad]);
    v9[1] = 9;
    const s = decodeSubscription(v9);
    expect(s.version).toBe(9);
    expect(s.topics).toEqual(['x']);
    expect(s.generationId).toBe(2);
  });

  it('rejects truncated bytes and lying counts as MalformedBytesError', () => {
    const good = encodeSubscription({ topics: ['orders'] }, 1);
    expect(() => decodeSubscription(good.subarray(0, good.length - 1))).toThrow(MalformedBytesError);
    expect(() => decodeSubscription(fromHex('0000' + '7fffffff'))).toThrow(/array count/);
  });

  it('refuses to write an undefined version', () => {
    expect(() => encodeSubscription({ topics: [] }, 4)).toThrow(RangeError);
  });

  it('refuses to write a topic name longer than 32767 UTF-8 bytes', () => {
    expect(() => encodeSubscription({ topics: ['t'.repeat(0x8000)] })).toThrow(RangeError);
  });

  it('reads any negative length of a nullable field as null, as Kafka does', () => {
    const bytes = encodeSubscription({ topics: ['t'], rackId: 'r' }, 3);
    const view = new DataView(bytes.buffer);
    view.setInt32(2 + 4 + 2 + 1, -2); // userData length
    view.setInt16(bytes.length - 3, -5); // rackId length; the byte after it is then trailing
    const s = decodeSubscription(bytes);
    expect(s.userData).toBeNull();
    expect(s.rackId).toBeNull();
  });

  it('says where a truncated blob ends, once', () => {
    const good = encodeSubscription({ topics: ['orders'] }, 2);
    expect(() => decodeSubscription(good.subarray(0, good.length - 1))).toThrow(/^needed 4 bytes, 3 left \(at byte \d+\)$/);
  });
});

describe('ConsumerProtocol assignment', () => {
  it('writes v0 byte-for-byte like kafkajs', () => {
    const bytes = encodeAssignment(
      {
        assignedPartitions: [
          { topic: 'orders', partitions: [0, 2] },
          { topic: 'audit', partitions: [1] },
        ],
        userData: new Uint8Array(0),
      },
      0,
    );
    expect(hex(bytes)).toBe(KAFKAJS_ASSIGNMENT_V0);
  });

  it('round-trips and reads kafkajs bytes', () => {
    const a = decodeAssignment(fromHex(KAFKAJS_ASSIGNMENT_V0));
    expect(a.assignedPartitions).toEqual([
      { topic: 'orders', partitions: [0, 2] },
      { topic: 'audit', partitions: [1] },
    ]);
    expect(a.userData).toEqual(new Uint8Array(0));
    const again = decodeAssignment(encodeAssignment({ assignedPartitions: a.assignedPartitions }));
    expect(again.version).toBe(3);
    expect(again.assignedPartitions).toEqual(a.assignedPartitions);
    expect(again.userData).toBeNull();
  });

  it('reads an empty blob as no assignment', () => {
    expect(decodeAssignment(new Uint8Array(0)).assignedPartitions).toEqual([]);
  });

  it('rejects a null topic name', () => {
    expect(() => decodeAssignment(fromHex('0000' + '00000001' + 'ffff'))).toThrow(/null topic/);
  });
});

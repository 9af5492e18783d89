// Keys and values of the records in the internal offsets topic (`__consumer_offsets`).
//
// ON-DISK FORMAT — SET IN STONE. Data directories written by one Sluice version are read by the
// next; change nothing here, add a new version number instead. The layout follows Kafka's own
// OffsetCommit/GroupMetadata key and value schemas in spirit (same key version numbers, same
// fields) but is Sluice's own format: a Kafka broker cannot read it, nor Sluice Kafka's.
//
// All integers are big-endian two's complement. Types used below:
//   int16, int32, int64      fixed width
//   string                   int16 byte length N >= 0, then N bytes of UTF-8
//   nullable string          int16 byte length, -1 = null, else as string
//   bytes                    int32 byte length N >= 0, then N bytes
// Strings are valid UTF-8 and kept exactly, a leading U+FEFF included.
//
// Key (record key, never null):
//   int16  keyVersion        1 = committed offset, 2 = group metadata
//   keyVersion 1:  string group, string topic, int32 partition
//   keyVersion 2:  string group
//
// Committed offset value (keyVersion 1; a null value is a tombstone: the offset was deleted or
// expired):
//   int16  valueVersion      1
//   int64  offset
//   int32  leaderEpoch       -1 = none
//   string metadata          the client's metadata string ("" when it sent null)
//   int64  commitTimestamp   ms since the epoch, when the coordinator accepted the commit
//   int64  expireTimestamp   ms since the epoch; -1 = none (set only by OffsetCommit v2-4
//                            with an explicit retentionTimeMs)
//
// Group metadata value (keyVersion 2; a null value is a tombstone: the group was deleted):
//   int16  valueVersion      1
//   nullable string protocolType      null for a group that never had members
//   int32  generation
//   nullable string protocolName      selected protocol, null when the group is empty
//   nullable string leader            leader member id, null when the group is empty
//   int64  currentStateTimestamp      ms since the epoch the group entered its state; -1 = none
//   int32  memberCount, then memberCount times:
//     string memberId
//     nullable string groupInstanceId
//     string clientId
//     string clientHost
//     int32  rebalanceTimeoutMs
//     int32  sessionTimeoutMs
//     bytes  subscription    the member's metadata for the selected protocol
//     bytes  assignment      what the leader assigned to it in this generation

import { ProtocolError, Reader, type Writer } from '@sluice/protocol';
import { encodeRecord, strictUtf8 } from '../internal-record-format.ts';

export const OFFSET_KEY_VERSION = 1;
export const GROUP_KEY_VERSION = 2;
const OFFSET_VALUE_VERSION = 1;
const GROUP_VALUE_VERSION = 1;

export interface OffsetKey {
  readonly kind: 'offset';
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
}

export interface GroupKey {
  readonly kind: 'group';
  readonly group: string;
}

export type RecordKey = OffsetKey | GroupKey;

export interface OffsetValue {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
  /** -1 = none. */
  readonly expireTimestamp: number;
}

export interface MemberValue {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly subscription: Uint8Array;
  readonly assignment: Uint8Array;
}

export interface GroupValue {
  readonly protocolType: string | null;
  readonly generation: number;
  readonly protocolName: string | null;
  readonly leader: string | null;
  readonly currentStateTimestamp: number;
  readonly members: readonly MemberValue[];
}

/** A record's key or value could not be decoded (corrupt or from an unknown version). */
export class RecordFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

// Fields are read and written with the protocol package's Reader and Writer (the same big-endian
// primitives as the wire). What this format adds is kept here: strings must be valid UTF-8, int64
// values must be exact JS integers, and every failure to decode is a RecordFormatError that names
// the record part being read.

function writeInt64(w: Writer, v: number): void {
  if (!Number.isSafeInteger(v)) throw new Error(`BUG: int64 field ${v} is not a safe integer`);
  w.int64(v);
}

/** Reads this format's fields from a protocol Reader, failing with RecordFormatError. */
class RecordReader {
  readonly fields: Reader;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.fields = new Reader(bytes);
    this.what = what;
  }

  fail(problem: string): RecordFormatError {
    return new RecordFormatError(`${this.what} ${problem}`);
  }

  int16(): number {
    return this.fields.int16();
  }

  int32(): number {
    return this.fields.int32();
  }

  int64(): number {
    const v = this.fields.int64();
    // The Reader rounds beyond ±2^53, and rounding never brings such a value back into the safe
    // range; the exact value is read again for the message.
    if (!Number.isSafeInteger(v)) throw this.fail(`holds int64 ${this.fields.view.getBigInt64(this.fields.pos - 8)} beyond 2^53`);
    return v;
  }

  nullableString(): string | null {
    const length = this.fields.int16();
    if (length === -1) return null;
    if (length < 0) throw this.fail(`has string length ${length}`);
    this.fields.need(length);
    try {
      return strictUtf8.decode(this.fields.borrow(length));
    } catch {
      throw this.fail('has a string that is not UTF-8');
    }
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw this.fail('has a null where a string is required');
    return s;
  }

  bytes(): Uint8Array {
    const length = this.fields.int32();
    if (length < 0) throw this.fail(`has bytes length ${length}`);
    this.fields.need(length);
    // A copy: the source is a view into a log read buffer that should not be retained.
    return this.fields.borrow(length).slice();
  }
}

/**
 * Decodes all of `bytes` with `read`. The Reader's ProtocolError (only TRUNCATED: every read
 * above is fixed-width or checked with need()) becomes a RecordFormatError, as do trailing bytes.
 */
function decodeRecord<T>(bytes: Uint8Array, what: string, read: (r: RecordReader) => T): T {
  const r = new RecordReader(bytes, what);
  let value: T;
  try {
    value = read(r);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    throw r.fail(e.code === 'TRUNCATED' ? `is truncated at byte ${e.offset}` : `is malformed: ${e.message}`);
  }
  if (r.fields.remaining !== 0) throw r.fail(`has ${r.fields.remaining} trailing bytes`);
  return value;
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Uint8Array {
  return encodeRecord('group', (w) => {
    w.int16(OFFSET_KEY_VERSION);
    w.string(group);
    w.string(topic);
    w.int32(partition);
  });
}

export function encodeGroupKey(group: string): Uint8Array {
  return encodeRecord('group', (w) => {
    w.int16(GROUP_KEY_VERSION);
    w.string(group);
  });
}

export function decodeKey(bytes: Uint8Array): RecordKey {
  return decodeRecord(bytes, 'group record key', (r): RecordKey => {
    const version = r.int16();
    if (version === OFFSET_KEY_VERSION) return { kind: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
    if (version === GROUP_KEY_VERSION) return { kind: 'group', group: r.string() };
    throw new RecordFormatError(`unknown group record key version ${version}`);
  });
}

export function encodeOffsetValue(v: OffsetValue): Uint8Array {
  return encodeRecord('group', (w) => {
    w.int16(OFFSET_VALUE_VERSION);
    writeInt64(w, v.offset);
    w.int32(v.leaderEpoch);
    w.string(v.metadata);
    writeInt64(w, v.commitTimestamp);
    writeInt64(w, v.expireTimestamp);
  });
}

export function decodeOffsetValue(bytes: Uint8Array): OffsetValue {
  return decodeRecord(bytes, 'committed offset value', (r) => {
    const version = r.int16();
    if (version !== OFFSET_VALUE_VERSION) throw new RecordFormatError(`unknown committed offset value version ${version}`);
    return { offset: r.int64(), leaderEpoch: r.int32(), metadata: r.string(), commitTimestamp: r.int64(), expireTimestamp: r.int64() };
  });
}

export function encodeGroupValue(v: GroupValue): Uint8Array {
  return encodeRecord('group', (w) => {
    w.int16(GROUP_VALUE_VERSION);
    w.string(v.protocolType);
    w.int32(v.generation);
    w.string(v.protocolName);
    w.string(v.leader);
    writeInt64(w, v.currentStateTimestamp);
    w.int32(v.members.length);
    for (const m of v.members) {
      w.string(m.memberId);
      w.string(m.groupInstanceId);
      w.string(m.clientId);
      w.string(m.clientHost);
      w.int32(m.rebalanceTimeoutMs);
      w.int32(m.sessionTimeoutMs);
      w.bytes(m.subscription);
      w.bytes(m.assignment);
    }
  });
}

export function decodeGroupValue(bytes: Uint8Array): GroupValue {
  return decodeRecord(bytes, 'group metadata value', (r) => {
    const version = r.int16();
    if (version !== GROUP_VALUE_VERSION) throw new RecordFormatError(`unknown group metadata value version ${version}`);
    const protocolType = r.nullableString();
    const generation = r.int32();
    const protocolName = r.nullableString();
    const leader = r.nullableString();
    const currentStateTimestamp = r.int64();
    const count = r.int32();
    // Each member takes at least 24 bytes; bound the count before allocating.
    if (count < 0 || count * 24 > bytes.length) throw new RecordFormatError(`group metadata value claims ${count} members`);
    const members: MemberValue[] = [];
    for (let i = 0; i < count; i++) {
      members.push({
        memberId: r.string(),
        groupInstanceId: r.nullableString(),
        clientId: r.string(),
        clientHost: r.string(),
        rebalanceTimeoutMs: r.int32(),
        sessionTimeoutMs: r.int32(),
        subscription: r.bytes(),
        assignment: r.bytes(),
      });
    }
    return { protocolType, generation, protocolName, leader, currentStateTimestamp, members };
  });
}

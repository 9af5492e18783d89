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

const MAX_INT16 = 0x7fff;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Appends big-endian fields to a growing buffer. */
class FieldWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  int16(v: number): this {
    this.reserve(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.reserve(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  int64(v: number): this {
    if (!Number.isSafeInteger(v)) throw new Error(`BUG: int64 field ${v} is not a safe integer`);
    this.reserve(8);
    this.view.setBigInt64(this.pos, BigInt(v));
    this.pos += 8;
    return this;
  }

  nullableString(s: string | null): this {
    if (s === null) return this.int16(-1);
    const bytes = utf8.encode(s);
    // Group ids, topics, member ids and metadata are bounded well below this by the protocol's
    // own int16 string lengths; a longer one here is a bug upstream.
    if (bytes.length > MAX_INT16) throw new Error(`BUG: string of ${bytes.length} bytes in a group record`);
    this.int16(bytes.length);
    this.reserve(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    return this;
  }

  string(s: string): this {
    return this.nullableString(s);
  }

  bytes(b: Uint8Array): this {
    this.int32(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Reads big-endian fields, failing with RecordFormatError on truncation. */
class FieldReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos = 0;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.what = what;
  }

  private need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new RecordFormatError(`${this.what} is truncated at byte ${this.pos}`);
  }

  int16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): number {
    this.need(8);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RecordFormatError(`${this.what} holds int64 ${v} beyond 2^53`);
    }
    return Number(v);
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < 0) throw new RecordFormatError(`${this.what} has string length ${length}`);
    this.need(length);
    try {
      return utf8Decoder.decode(this.bytes.subarray(this.pos, (this.pos += length)));
    } catch {
      throw new RecordFormatError(`${this.what} has a string that is not UTF-8`);
    }
  }

  string(): string {
    const s = this.nullableString();
    if (s === null) throw new RecordFormatError(`${this.what} has a null where a string is required`);
    return s;
  }

  bytesField(): Uint8Array {
    const length = this.int32();
    if (length < 0) throw new RecordFormatError(`${this.what} has bytes length ${length}`);
    this.need(length);
    // A copy: the source is a view into a log read buffer that should not be retained.
    return this.bytes.slice(this.pos, (this.pos += length));
  }

  end(): void {
    if (this.pos !== this.bytes.length) throw new RecordFormatError(`${this.what} has ${this.bytes.length - this.pos} trailing bytes`);
  }
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Uint8Array {
  return new FieldWriter().int16(OFFSET_KEY_VERSION).string(group).string(topic).int32(partition).finish();
}

export function encodeGroupKey(group: string): Uint8Array {
  return new FieldWriter().int16(GROUP_KEY_VERSION).string(group).finish();
}

export function decodeKey(bytes: Uint8Array): RecordKey {
  const r = new FieldReader(bytes, 'group record key');
  const version = r.int16();
  let key: RecordKey;
  if (version === OFFSET_KEY_VERSION) {
    key = { kind: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  } else if (version === GROUP_KEY_VERSION) {
    key = { kind: 'group', group: r.string() };
  } else {
    throw new RecordFormatError(`unknown group record key version ${version}`);
  }
  r.end();
  return key;
}

export function encodeOffsetValue(v: OffsetValue): Uint8Array {
  return new FieldWriter()
    .int16(OFFSET_VALUE_VERSION)
    .int64(v.offset)
    .int32(v.leaderEpoch)
    .string(v.metadata)
    .int64(v.commitTimestamp)
    .int64(v.expireTimestamp)
    .finish();
}

export function decodeOffsetValue(bytes: Uint8Array): OffsetValue {
  const r = new FieldReader(bytes, 'committed offset value');
  const version = r.int16();
  if (version !== OFFSET_VALUE_VERSION) throw new RecordFormatError(`unknown committed offset value version ${version}`);
  const value = { offset: r.int64(), leaderEpoch: r.int32(), metadata: r.string(), commitTimestamp: r.int64(), expireTimestamp: r.int64() };
  r.end();
  return value;
}

export function encodeGroupValue(v: GroupValue): Uint8Array {
  const w = new FieldWriter()
    .int16(GROUP_VALUE_VERSION)
    .nullableString(v.protocolType)
    .int32(v.generation)
    .nullableString(v.protocolName)
    .nullableString(v.leader)
    .int64(v.currentStateTimestamp)
    .int32(v.members.length);
  for (const m of v.members) {
    w.string(m.memberId)
      .nullableString(m.groupInstanceId)
      .string(m.clientId)
      .string(m.clientHost)
      .int32(m.rebalanceTimeoutMs)
      .int32(m.sessionTimeoutMs)
      .bytes(m.subscription)
      .bytes(m.assignment);
  }
  return w.finish();
}

export function decodeGroupValue(bytes: Uint8Array): GroupValue {
  const r = new FieldReader(bytes, 'group metadata value');
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
      subscription: r.bytesField(),
      assignment: r.bytesField(),
    });
  }
  r.end();
  return { protocolType, generation, protocolName, leader, currentStateTimestamp, members };
}

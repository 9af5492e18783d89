// The `__consumer_offsets` records of KIP-848 consumer groups, in Kafka's byte formats (the
// group coordinator's ConsumerGroup*Key/Value.json message definitions, Kafka 4.0): unlike the
// classic records of records.ts (Sluice's own layout), these are byte-for-byte Kafka's.
//
// ON-DISK FORMAT — SET IN STONE, as records.ts.
//
// Key: int16 record type, then the key fields at their only version (non-flexible: strings are
// int16 length + UTF-8):
//   3  ConsumerGroupMetadata             string groupId
//   4  ConsumerGroupPartitionMetadata    string groupId
//   5  ConsumerGroupMemberMetadata       string groupId, string memberId
//   6  ConsumerGroupTargetAssignmentMetadata  string groupId
//   7  ConsumerGroupTargetAssignmentMember    string groupId, string memberId
//   8  ConsumerGroupCurrentMemberAssignment   string groupId, string memberId
//  16  ConsumerGroupRegularExpression    string groupId, string regularExpression
//
// Value (null: tombstone): int16 value version 0, then the fields in flexible encoding (compact
// strings/arrays/bytes: uvarint length + 1, 0 = null; every struct ends with its tagged fields,
// written empty and skipped when read):
//   3  int32 epoch
//   4  []{uuid topicId, string topicName, int32 numPartitions, []{int32 partition, []string racks}}
//   5  string? instanceId, string? rackId, string clientId, string clientHost,
//      []string subscribedTopicNames, string? subscribedTopicRegex, int32 rebalanceTimeoutMs,
//      string? serverAssignor   (tag 0, classicMemberMetadata, is Kafka's for classic members: skipped)
//   6  int32 assignmentEpoch
//   7  int8 error, []{uuid topicId, []int32 partitions}, int16 metadataVersion, bytes metadataBytes
//   8  int32 memberEpoch, int32 previousMemberEpoch, int8 state,
//      []{uuid, []int32} assignedPartitions, []{uuid, []int32} partitionsPendingRevocation
//  16  []string topics, int64 version, int64 timestamp

import { ProtocolError, Reader, Writer } from '@sluice/protocol';
import { type Assignment, compactAssignment, MEMBER_STATE_BYTES, type MemberState, type TopicImage } from './consumer-group.ts';
import { RecordFormatError } from './records.ts';

export const CONSUMER_GROUP_METADATA = 3;
export const CONSUMER_GROUP_PARTITION_METADATA = 4;
export const CONSUMER_GROUP_MEMBER_METADATA = 5;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA = 6;
export const CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER = 7;
export const CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT = 8;
export const CONSUMER_GROUP_REGULAR_EXPRESSION = 16;

const CONSUMER_KEY_TYPES = new Set([3, 4, 5, 6, 7, 8, 16]);
const VALUE_VERSION = 0;

export interface ConsumerRecordKey {
  readonly kind: 'consumer';
  readonly type: number;
  readonly group: string;
  /** Member id (types 5, 7, 8) or regular expression (16); '' otherwise. */
  readonly sub: string;
}

export function isConsumerKeyType(type: number): boolean {
  return CONSUMER_KEY_TYPES.has(type);
}

function encode(write: (w: Writer) => void): Uint8Array {
  const w = new Writer(64);
  try {
    write(w);
  } catch (e) {
    if (e instanceof ProtocolError) throw new Error(`BUG: ${e.message} in a consumer group record`, { cause: e });
    throw e;
  }
  return w.buf.slice(0, w.pos);
}

function decode<T>(bytes: Uint8Array, what: string, read: (r: Reader) => T): T {
  const r = new Reader(bytes);
  let value: T;
  try {
    value = read(r);
  } catch (e) {
    if (e instanceof RecordFormatError) throw e;
    if (!(e instanceof ProtocolError)) throw e;
    throw new RecordFormatError(`${what} is malformed: ${e.message}`);
  }
  if (r.remaining !== 0) throw new RecordFormatError(`${what} has ${r.remaining} trailing bytes`);
  return value;
}

// ---- keys -------------------------------------------------------------------------------------

export function encodeConsumerKey(type: number, group: string, sub = ''): Uint8Array {
  return encode((w) => {
    w.int16(type);
    w.string(group);
    if (type === 5 || type === 7 || type === 8 || type === 16) w.string(sub);
  });
}

/** Decodes a key whose int16 type is one of the consumer group record types. */
export function decodeConsumerKey(bytes: Uint8Array): ConsumerRecordKey {
  const what = bytes.length >= 2 ? `consumer group record key version ${(bytes[0]! << 8) | bytes[1]!}` : 'consumer group record key';
  return decode(bytes, what, (r) => {
    const type = r.int16();
    if (!isConsumerKeyType(type)) throw new RecordFormatError(`not a consumer group record key type: ${type}`);
    const group = r.string();
    const sub = type === 5 || type === 7 || type === 8 || type === 16 ? r.string() : '';
    return { kind: 'consumer', type, group, sub };
  });
}

// ---- value helpers ----------------------------------------------------------------------------

function beginValue(w: Writer): void {
  w.int16(VALUE_VERSION);
}

function noTaggedFields(w: Writer): void {
  w.uvarint(0);
}

function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  for (let i = 0; i < count; i++) {
    r.uvarint(); // tag
    r.skip(r.uvarint());
  }
}

function readValueVersion(r: Reader, what: string): void {
  const version = r.int16();
  if (version !== VALUE_VERSION) throw new RecordFormatError(`unknown ${what} value version ${version}`);
}

function compactArray<T>(w: Writer, items: readonly T[], each: (item: T) => void): void {
  w.compactArrayLength(items.length);
  for (const item of items) each(item);
}

function readCompactArray<T>(r: Reader, minBytes: number, each: () => T): T[] {
  const n = r.compactArrayLength(false, minBytes);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(each());
  return out;
}

function writeTopicPartitions(w: Writer, a: Assignment): void {
  const topics = [...a.entries()].sort(([x], [y]) => (x < y ? -1 : 1));
  compactArray(w, topics, ([topicId, partitions]) => {
    w.uuid(topicId);
    compactArray(
      w,
      [...partitions].sort((x, y) => x - y),
      (p) => w.int32(p),
    );
    noTaggedFields(w);
  });
}

function readTopicPartitions(r: Reader): Assignment {
  return compactAssignment(
    readCompactArray(r, 18, () => {
      const topicId = r.uuid();
      const partitions = readCompactArray(r, 4, () => r.int32());
      skipTaggedFields(r);
      return [topicId, partitions] as [string, number[]];
    }),
  );
}

// ---- values -----------------------------------------------------------------------------------

export function encodeGroupEpochValue(epoch: number): Uint8Array {
  return encode((w) => {
    beginValue(w);
    w.int32(epoch);
    noTaggedFields(w);
  });
}

/** Types 3 and 6: a single int32 epoch. */
export function decodeEpochValue(bytes: Uint8Array, what: string): number {
  return decode(bytes, what, (r) => {
    readValueVersion(r, what);
    const epoch = r.int32();
    skipTaggedFields(r);
    return epoch;
  });
}

export const encodeAssignmentEpochValue = encodeGroupEpochValue;

export function encodePartitionMetadataValue(topics: Iterable<TopicImage>): Uint8Array {
  return encode((w) => {
    beginValue(w);
    const sorted = [...topics].sort((a, b) => (a.name < b.name ? -1 : 1));
    compactArray(w, sorted, (t) => {
      w.uuid(t.id);
      w.compactString(t.name);
      w.int32(t.partitionCount);
      // PartitionMetadata (racks): not used since Kafka 4.0; stored empty.
      w.compactArrayLength(0);
      noTaggedFields(w);
    });
    noTaggedFields(w);
  });
}

export function decodePartitionMetadataValue(bytes: Uint8Array): TopicImage[] {
  return decode(bytes, 'consumer group partition metadata value', (r) => {
    readValueVersion(r, 'consumer group partition metadata');
    const topics = readCompactArray(r, 22, () => {
      const id = r.uuid();
      const name = r.compactString();
      const partitionCount = r.int32();
      readCompactArray(r, 6, () => {
        r.int32();
        readCompactArray(r, 1, () => r.compactString());
        skipTaggedFields(r);
      });
      skipTaggedFields(r);
      return { id, name, partitionCount };
    });
    skipTaggedFields(r);
    return topics;
  });
}

export interface MemberMetadataValue {
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly serverAssignor: string | null;
}

export function encodeMemberMetadataValue(v: MemberMetadataValue): Uint8Array {
  return encode((w) => {
    beginValue(w);
    w.compactString(v.instanceId);
    w.compactString(v.rackId);
    w.compactString(v.clientId);
    w.compactString(v.clientHost);
    compactArray(w, v.subscribedTopicNames, (t) => w.compactString(t));
    w.compactString(v.subscribedTopicRegex);
    w.int32(v.rebalanceTimeoutMs);
    w.compactString(v.serverAssignor);
    noTaggedFields(w);
  });
}

export function decodeMemberMetadataValue(bytes: Uint8Array): MemberMetadataValue {
  return decode(bytes, 'consumer group member metadata value', (r) => {
    readValueVersion(r, 'consumer group member metadata');
    const v: MemberMetadataValue = {
      instanceId: r.compactNullableString(),
      rackId: r.compactNullableString(),
      clientId: r.compactString(),
      clientHost: r.compactString(),
      subscribedTopicNames: readCompactArray(r, 1, () => r.compactString()),
      subscribedTopicRegex: r.compactNullableString(),
      rebalanceTimeoutMs: r.int32(),
      serverAssignor: r.compactNullableString(),
    };
    skipTaggedFields(r);
    return v;
  });
}

export function encodeTargetAssignmentMemberValue(a: Assignment): Uint8Array {
  return encode((w) => {
    beginValue(w);
    w.int8(0); // error: none (server-side assignors have no per-member error)
    writeTopicPartitions(w, a);
    w.int16(0); // metadataVersion
    w.compactBytes(new Uint8Array(0)); // metadataBytes
    noTaggedFields(w);
  });
}

export function decodeTargetAssignmentMemberValue(bytes: Uint8Array): Assignment {
  return decode(bytes, 'consumer group target assignment member value', (r) => {
    readValueVersion(r, 'consumer group target assignment member');
    r.int8();
    const a = readTopicPartitions(r);
    r.int16();
    r.compactBytes();
    skipTaggedFields(r);
    return a;
  });
}

export interface CurrentMemberAssignmentValue {
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  readonly assignedPartitions: Assignment;
  readonly partitionsPendingRevocation: Assignment;
}

const STATE_BY_BYTE = new Map<number, MemberState>(Object.entries(MEMBER_STATE_BYTES).map(([s, b]) => [b, s as MemberState]));

export function encodeCurrentMemberAssignmentValue(v: CurrentMemberAssignmentValue): Uint8Array {
  return encode((w) => {
    beginValue(w);
    w.int32(v.memberEpoch);
    w.int32(v.previousMemberEpoch);
    w.int8(MEMBER_STATE_BYTES[v.state]);
    writeTopicPartitions(w, v.assignedPartitions);
    writeTopicPartitions(w, v.partitionsPendingRevocation);
    noTaggedFields(w);
  });
}

export function decodeCurrentMemberAssignmentValue(bytes: Uint8Array): CurrentMemberAssignmentValue {
  return decode(bytes, 'consumer group current member assignment value', (r) => {
    readValueVersion(r, 'consumer group current member assignment');
    const memberEpoch = r.int32();
    const previousMemberEpoch = r.int32();
    const stateByte = r.int8();
    const state = STATE_BY_BYTE.get(stateByte) ?? 'unknown';
    const assignedPartitions = readTopicPartitions(r);
    const partitionsPendingRevocation = readTopicPartitions(r);
    skipTaggedFields(r);
    return { memberEpoch, previousMemberEpoch, state, assignedPartitions, partitionsPendingRevocation };
  });
}

export interface RegularExpressionValue {
  readonly topics: readonly string[];
  readonly version: number;
  readonly timestamp: number;
}

export function encodeRegularExpressionValue(v: RegularExpressionValue): Uint8Array {
  return encode((w) => {
    beginValue(w);
    compactArray(w, v.topics, (t) => w.compactString(t));
    w.int64(v.version);
    w.int64(v.timestamp);
    noTaggedFields(w);
  });
}

export function decodeRegularExpressionValue(bytes: Uint8Array): RegularExpressionValue {
  return decode(bytes, 'consumer group regular expression value', (r) => {
    readValueVersion(r, 'consumer group regular expression');
    const topics = readCompactArray(r, 1, () => r.compactString());
    const version = r.int64();
    const timestamp = r.int64();
    skipTaggedFields(r);
    return { topics, version, timestamp };
  });
}

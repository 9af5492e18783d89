// Kafka's ConsumerProtocol: the bytes a 'consumer'-type group member puts in JoinGroup's
// protocol metadata (the subscription) and the leader puts in SyncGroup's assignments. The broker
// treats both as opaque; every Kafka client (Java, librdkafka, kafkajs, franz-go) reads them, so
// the format is set in stone. Both are classic (non-flexible) encodings led by an int16 version:
//
// Subscription (versions 0-3):
//   int16 version
//   [string] topics                         int32 count, int16-length strings
//   bytes userData                          int32 length, -1 = null
//   v1+: [{ string topic, [int32] partitions }] ownedPartitions
//   v2+: int32 generationId                 -1 = unknown
//   v3+: string rackId                      int16 length, -1 = null
//
// Assignment (versions 0-3, the field layout is the same in all of them):
//   int16 version
//   [{ string topic, [int32] partitions }] assignedPartitions
//   bytes userData                          -1 = null
//
// Kafka's rule for versions newer than the reader knows: parse the fields it knows and ignore the
// rest (fields are only ever appended). We follow it, so a v4 blob decodes as v3.

import type { Reader, Writer } from '@sluice/protocol';
import { decodeBlob, encodeBlob, MalformedBytesError, readArray, readBytes, readString, writeArray } from './bytes.ts';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';
/** Newest subscription/assignment version we write. */
export const CONSUMER_PROTOCOL_VERSION = 3;

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface Subscription {
  readonly version: number;
  readonly topics: readonly string[];
  readonly userData: Uint8Array | null;
  readonly ownedPartitions: readonly TopicPartitions[];
  readonly generationId: number;
  readonly rackId: string | null;
}

export interface Assignment {
  readonly version: number;
  readonly assignedPartitions: readonly TopicPartitions[];
  readonly userData: Uint8Array | null;
}

function writeTopicPartitions(w: Writer, list: readonly TopicPartitions[]): void {
  writeArray(w, list, (tp) => {
    w.string(tp.topic);
    writeArray(w, tp.partitions, (p) => w.int32(p));
  });
}

function readTopicPartitions(r: Reader, what: string): TopicPartitions[] {
  const list = readArray(r, () => {
    const topic = readString(r);
    if (topic === null) throw new MalformedBytesError(`null topic name in ${what}`, r.pos);
    const partitions = readArray(r, () => r.int32());
    if (partitions === null) throw new MalformedBytesError(`null partition list in ${what}`, r.pos);
    return { topic, partitions };
  });
  if (list === null) throw new MalformedBytesError(`null ${what}`, r.pos);
  return list;
}

function checkVersion(version: number, what: string): void {
  if (!Number.isInteger(version) || version < 0 || version > CONSUMER_PROTOCOL_VERSION) {
    throw new RangeError(`cannot write ${what} version ${version}; 0-${CONSUMER_PROTOCOL_VERSION} are defined`);
  }
}

export function encodeSubscription(
  s: { topics: readonly string[]; userData?: Uint8Array | null; ownedPartitions?: readonly TopicPartitions[]; generationId?: number; rackId?: string | null },
  version = CONSUMER_PROTOCOL_VERSION,
): Uint8Array {
  checkVersion(version, 'subscription');
  return encodeBlob((w) => {
    w.int16(version);
    writeArray(w, s.topics, (t) => w.string(t));
    w.bytes(s.userData ?? null);
    if (version >= 1) writeTopicPartitions(w, s.ownedPartitions ?? []);
    if (version >= 2) w.int32(s.generationId ?? -1);
    if (version >= 3) w.string(s.rackId ?? null);
  });
}

export function decodeSubscription(bytes: Uint8Array): Subscription {
  return decodeBlob(bytes, (r) => {
    const version = r.int16();
    if (version < 0) throw new MalformedBytesError(`negative subscription version ${version}`, 0);
    const topics = readArray(r, () => {
      const t = readString(r);
      if (t === null) throw new MalformedBytesError('null topic in subscription', r.pos);
      return t;
    });
    if (topics === null) throw new MalformedBytesError('null topic list in subscription', 2);
    const userData = readBytes(r);
    const ownedPartitions = version >= 1 ? readTopicPartitions(r, 'owned partitions') : [];
    const generationId = version >= 2 ? r.int32() : -1;
    const rackId = version >= 3 ? readString(r) : null;
    return { version, topics, userData, ownedPartitions, generationId, rackId };
  });
}

export function encodeAssignment(
  a: { assignedPartitions: readonly TopicPartitions[]; userData?: Uint8Array | null },
  version = CONSUMER_PROTOCOL_VERSION,
): Uint8Array {
  checkVersion(version, 'assignment');
  return encodeBlob((w) => {
    w.int16(version);
    writeTopicPartitions(w, a.assignedPartitions);
    w.bytes(a.userData ?? null);
  });
}

/**
 * Decodes an assignment. An empty blob is "no assignment" (what a coordinator sends a member the
 * leader gave nothing, and what DescribeGroups shows for a rebalancing member).
 */
export function decodeAssignment(bytes: Uint8Array): Assignment {
  if (bytes.length === 0) return { version: 0, assignedPartitions: [], userData: null };
  return decodeBlob(bytes, (r) => {
    const version = r.int16();
    if (version < 0) throw new MalformedBytesError(`negative assignment version ${version}`, 0);
    const assignedPartitions = readTopicPartitions(r, 'assigned partitions');
    const userData = readBytes(r);
    return { version, assignedPartitions, userData };
  });
}

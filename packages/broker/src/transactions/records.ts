// Keys and values of the records in the internal transaction state topic
// (`__transaction_state`), in Kafka's own schemas: TransactionLogKey v0 and TransactionLogValue
// v0/v1 (Kafka's transaction-coordinator/src/main/resources/common/message/*.json). Unlike
// `__consumer_offsets` (groups/records.ts, Sluice's own layout), these are Kafka's bytes, so a
// `__transaction_state` dump reads the same in both brokers' tools.
//
// ON-DISK FORMAT — SET IN STONE. Big-endian; "compact" = the flexible encoding (uvarint length
// + 1, 0 = null); a tagged section is uvarint count, then per field uvarint tag, uvarint size,
// bytes, in tag order.
//
// Key (never null):
//   int16  version          0
//   string transactionalId  int16 length + UTF-8
//
// Value (null = tombstone: the transactional id expired and was removed):
//   int16  version          0 (classic) or 1 (flexible; written when transaction.version >= 1)
//   int64  producerId
//   int16  producerEpoch
//   int32  transactionTimeoutMs
//   int8   transactionStatus        state.ts TRANSACTION_STATUS (0 Empty … 5 CompleteAbort)
//   transactionPartitions           nullable array (null when Empty); per element:
//     string topic
//     int32[] partitionIds
//     (v1: the element's own tagged section, empty)
//     v0: int32 count (-1 = null), classic strings; v1: compact array, compact strings
//   int64  transactionLastUpdateTimestampMs
//   int64  transactionStartTimestampMs  -1 when no transaction has started
//   v1 tagged section:
//     tag 0  int64 previousProducerId     default -1, written only when not -1
//     tag 1  int64 nextProducerId         default -1
//     tag 2  int16 clientTransactionVersion  default 0
//
// Kafka does not store lastProducerEpoch: after a reload it is -1 (NO_PRODUCER_EPOCH), so a
// producer's InitProducerId retry that spans a restart is fenced rather than recognised — as in
// Kafka. Reading follows Kafka: a key of an unknown version is reported as such (the loader
// skips it); a value of a version above 1 is read as v1 (KIP-915: only tagged fields are ever
// added), its unknown tags skipped.

import { ProtocolError, Reader, type Writer } from '@sluice/protocol';
import { encodeRecord, strictUtf8 } from '../internal-record-format.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';
const KEY_VERSION = 0;
const NO_PRODUCER_ID = -1;
const TAG_PREVIOUS_PRODUCER_ID = 0;
const TAG_NEXT_PRODUCER_ID = 1;
const TAG_CLIENT_TRANSACTION_VERSION = 2;

export interface TransactionLogPartitions {
  readonly topic: string;
  readonly partitionIds: readonly number[];
}

export interface TransactionLogValue {
  readonly producerId: number;
  /** -1 = none. */
  readonly previousProducerId: number;
  /** -1 = none. */
  readonly nextProducerId: number;
  readonly producerEpoch: number;
  readonly transactionTimeoutMs: number;
  readonly transactionStatus: number;
  /** null when the transactional id is Empty (no transaction). */
  readonly transactionPartitions: readonly TransactionLogPartitions[] | null;
  readonly transactionLastUpdateTimestampMs: number;
  readonly transactionStartTimestampMs: number;
  readonly clientTransactionVersion: number;
}

export type TransactionLogKey = { readonly kind: 'transaction'; readonly transactionalId: string } | { readonly kind: 'unknown'; readonly version: number };

/** A key or value could not be decoded (corrupt, or a layout this version cannot read). */
export class TransactionRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransactionRecordError';
  }
}

function safeInt64(v: number, what: string): number {
  if (!Number.isSafeInteger(v)) throw new Error(`BUG: ${what} ${v} is not a safe integer`);
  return v;
}

/** Reads the record's fields, with strict UTF-8 and a TransactionRecordError for every failure. */
class FieldReader {
  readonly r: Reader;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.r = new Reader(bytes);
    this.what = what;
  }

  fail(problem: string): TransactionRecordError {
    return new TransactionRecordError(`${this.what} ${problem}`);
  }

  int64(): number {
    const v = this.r.int64();
    if (!Number.isSafeInteger(v)) throw this.fail(`holds int64 ${this.r.view.getBigInt64(this.r.pos - 8)} beyond 2^53`);
    return v;
  }

  private utf8(length: number): string {
    this.r.need(length);
    try {
      return strictUtf8.decode(this.r.borrow(length));
    } catch {
      throw this.fail('has a string that is not UTF-8');
    }
  }

  string(flexible: boolean): string {
    const length = flexible ? this.r.uvarint() - 1 : this.r.int16();
    if (length < 0) throw this.fail(`has a null or negative string length ${length}`);
    return this.utf8(length);
  }

  /** Array length; -1 = null. Bounded by the bytes left, `minElementBytes` each. */
  arrayLength(flexible: boolean, minElementBytes: number): number {
    const n = flexible ? this.r.uvarint() - 1 : this.r.int32();
    if (n < -1) throw this.fail(`has array length ${n}`);
    if (n * minElementBytes > this.r.remaining) throw this.fail(`claims ${n} array elements in ${this.r.remaining} bytes`);
    return n;
  }

  /** Reads a tagged section, calling `known(tag, size)` for each field (it must read `size` bytes or return false to skip). */
  taggedFields(known: (tag: number, size: number) => boolean): void {
    const count = this.r.uvarint();
    let previous = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.r.uvarint();
      const size = this.r.uvarint();
      if (tag <= previous) throw this.fail(`has tagged field ${tag} after ${previous}`);
      previous = tag;
      this.r.need(size);
      const start = this.r.pos;
      if (!known(tag, size)) this.r.skip(size);
      else if (this.r.pos !== start + size) throw this.fail(`has tagged field ${tag} of ${size} bytes`);
    }
  }
}

function decodeRecord<T>(bytes: Uint8Array, what: string, read: (f: FieldReader) => T): T {
  const f = new FieldReader(bytes, what);
  let value: T;
  try {
    value = read(f);
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw e;
    throw f.fail(e.code === 'TRUNCATED' ? `is truncated at byte ${e.offset}` : `is malformed: ${e.message}`);
  }
  if (f.r.remaining !== 0) throw f.fail(`has ${f.r.remaining} trailing bytes`);
  return value;
}

export function encodeTransactionLogKey(transactionalId: string): Uint8Array {
  return encodeRecord('transaction', (w) => {
    w.int16(KEY_VERSION);
    w.string(transactionalId);
  });
}

export function decodeTransactionLogKey(bytes: Uint8Array): TransactionLogKey {
  return decodeRecord(bytes, 'transaction log key', (f): TransactionLogKey => {
    const version = f.r.int16();
    if (version !== KEY_VERSION) {
      // Not ours to read (a newer record type): the loader skips it, as Kafka's does. The rest of
      // the bytes are that record's business.
      f.r.skip(f.r.remaining);
      return { kind: 'unknown', version };
    }
    return { kind: 'transaction', transactionalId: f.string(false) };
  });
}

/** Kafka writes version 1 (flexible) once transaction.version >= 1, version 0 before. */
export function encodeTransactionLogValue(v: TransactionLogValue, version: 0 | 1 = 1): Uint8Array {
  const flexible = version >= 1;
  if (!flexible && (v.previousProducerId !== NO_PRODUCER_ID || v.nextProducerId !== NO_PRODUCER_ID || v.clientTransactionVersion !== 0)) {
    throw new Error('BUG: a version 0 transaction log value cannot hold previous/next producer ids or a client transaction version');
  }
  return encodeRecord('transaction', (w) => {
    w.int16(version);
    w.int64(safeInt64(v.producerId, 'producerId'));
    w.int16(v.producerEpoch);
    w.int32(v.transactionTimeoutMs);
    w.int8(v.transactionStatus);
    const partitions = v.transactionPartitions;
    if (partitions === null) {
      if (flexible) w.uvarint(0);
      else w.int32(-1);
    } else {
      if (flexible) w.compactArrayLength(partitions.length);
      else w.int32(partitions.length);
      for (const p of partitions) {
        if (flexible) w.compactString(p.topic);
        else w.string(p.topic);
        if (flexible) w.compactArrayLength(p.partitionIds.length);
        else w.int32(p.partitionIds.length);
        for (const id of p.partitionIds) w.int32(id);
        if (flexible) w.uvarint(0); // the element's empty tagged section
      }
    }
    w.int64(safeInt64(v.transactionLastUpdateTimestampMs, 'transactionLastUpdateTimestampMs'));
    w.int64(safeInt64(v.transactionStartTimestampMs, 'transactionStartTimestampMs'));
    if (flexible) {
      const tags: Array<[number, (w: Writer) => void, number]> = [];
      if (v.previousProducerId !== NO_PRODUCER_ID)
        tags.push([TAG_PREVIOUS_PRODUCER_ID, (w) => w.int64(safeInt64(v.previousProducerId, 'previousProducerId')), 8]);
      if (v.nextProducerId !== NO_PRODUCER_ID) tags.push([TAG_NEXT_PRODUCER_ID, (w) => w.int64(safeInt64(v.nextProducerId, 'nextProducerId')), 8]);
      if (v.clientTransactionVersion !== 0) tags.push([TAG_CLIENT_TRANSACTION_VERSION, (w) => w.int16(v.clientTransactionVersion), 2]);
      w.uvarint(tags.length);
      for (const [tag, write, size] of tags) {
        w.uvarint(tag);
        w.uvarint(size);
        write(w);
      }
    }
  });
}

export function decodeTransactionLogValue(bytes: Uint8Array): { readonly version: number; readonly value: TransactionLogValue } {
  return decodeRecord(bytes, 'transaction log value', (f) => {
    const version = f.r.int16();
    if (version < 0) throw f.fail(`has version ${version}`);
    const flexible = version >= 1;
    const producerId = f.int64();
    const producerEpoch = f.r.int16();
    const transactionTimeoutMs = f.r.int32();
    const transactionStatus = f.r.int8();
    // The smallest element: an empty topic string and an empty partition list.
    const count = f.arrayLength(flexible, flexible ? 3 : 6);
    let transactionPartitions: TransactionLogPartitions[] | null = null;
    if (count >= 0) {
      transactionPartitions = [];
      for (let i = 0; i < count; i++) {
        const topic = f.string(flexible);
        const n = f.arrayLength(flexible, 4);
        if (n < 0) throw f.fail(`has a null partition list for topic ${topic}`);
        const partitionIds: number[] = [];
        for (let j = 0; j < n; j++) partitionIds.push(f.r.int32());
        if (flexible) f.taggedFields(() => false);
        transactionPartitions.push({ topic, partitionIds });
      }
    }
    const transactionLastUpdateTimestampMs = f.int64();
    const transactionStartTimestampMs = f.int64();
    let previousProducerId = NO_PRODUCER_ID;
    let nextProducerId = NO_PRODUCER_ID;
    let clientTransactionVersion = 0;
    if (flexible) {
      f.taggedFields((tag, size) => {
        if (tag === TAG_PREVIOUS_PRODUCER_ID && size === 8) previousProducerId = f.int64();
        else if (tag === TAG_NEXT_PRODUCER_ID && size === 8) nextProducerId = f.int64();
        else if (tag === TAG_CLIENT_TRANSACTION_VERSION && size === 2) clientTransactionVersion = f.r.int16();
        else if (tag <= TAG_CLIENT_TRANSACTION_VERSION) throw f.fail(`has tagged field ${tag} of ${size} bytes`);
        else return false;
        return true;
      });
    }
    return {
      version,
      value: {
        producerId,
        previousProducerId,
        nextProducerId,
        producerEpoch,
        transactionTimeoutMs,
        transactionStatus,
        transactionPartitions,
        transactionLastUpdateTimestampMs,
        transactionStartTimestampMs,
        clientTransactionVersion,
      },
    };
  });
}

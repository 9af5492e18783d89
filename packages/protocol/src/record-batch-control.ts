// Control batches: the end-transaction markers (COMMIT / ABORT) a transaction coordinator has
// appended to every partition of a finished transaction. Built here for the broker's marker
// writer and for tests; parsed here for tools and read_committed checks.
//
// The format is Kafka's (DefaultRecordBatch, ControlRecordType, EndTransactionMarker), set in
// stone — clients parse these bytes:
//
//   batch       RecordBatch v2 (record-batch.ts) with attributes = 0x20 (control) | 0x10
//               (transactional), compression none, CreateTime; producerId / producerEpoch of the
//               transaction; baseSequence -1; exactly one record, offsetDelta 0, timestampDelta 0,
//               no headers. A marker batch is 78 bytes: 61 of header, 17 of record.
//   record key  int16 version = 0, int16 type: 0 = ABORT, 1 = COMMIT (Kafka's ControlRecordType;
//               2-6 are KRaft's own control records, never in a data partition)
//   record value int16 version = 0, int32 coordinatorEpoch (EndTransactionMarker)
//
// Kafka reads a key of another version as an error and a value of a higher version as version 0
// (its fields are a prefix); an unknown key type is UNKNOWN and ignored by consumers. Same here.

import { ProtocolError } from './errors.ts';
import { buildRecordBatch, type RecordBatch } from './record-batch.ts';

export type EndTxnMarkerType = 'ABORT' | 'COMMIT';

/** Kafka's ControlRecordType ids. */
export const CONTROL_RECORD_ABORT = 0;
export const CONTROL_RECORD_COMMIT = 1;
const CONTROL_KEY_VERSION = 0;
const END_TXN_MARKER_VERSION = 0;
const CONTROL_KEY_BYTES = 4;
const END_TXN_MARKER_VALUE_BYTES = 6;

export interface EndTxnMarker {
  readonly type: EndTxnMarkerType;
  readonly coordinatorEpoch: number;
}

export interface BuildEndTxnMarkerBatchOptions extends EndTxnMarker {
  readonly producerId: number;
  readonly producerEpoch: number;
  /** The append time, ms since the epoch (Kafka stamps the coordinator's clock). */
  readonly timestamp: number;
  /** Default 0; the log assigns the real offset on append. */
  readonly baseOffset?: number;
  /** Default -1; the partition's leader epoch when the leader writes it. */
  readonly partitionLeaderEpoch?: number;
}

/** The 4-byte control record key for a marker. */
export function encodeControlRecordKey(type: EndTxnMarkerType): Uint8Array {
  const key = new Uint8Array(CONTROL_KEY_BYTES);
  const view = new DataView(key.buffer);
  view.setInt16(0, CONTROL_KEY_VERSION);
  view.setInt16(2, type === 'COMMIT' ? CONTROL_RECORD_COMMIT : CONTROL_RECORD_ABORT);
  return key;
}

/** The 6-byte end-transaction marker value. */
export function encodeEndTxnMarkerValue(coordinatorEpoch: number): Uint8Array {
  if (!Number.isInteger(coordinatorEpoch) || coordinatorEpoch < -0x8000_0000 || coordinatorEpoch > 0x7fff_ffff) {
    throw new RangeError(`coordinatorEpoch must be an int32, got ${coordinatorEpoch}`);
  }
  const value = new Uint8Array(END_TXN_MARKER_VALUE_BYTES);
  const view = new DataView(value.buffer);
  view.setInt16(0, END_TXN_MARKER_VERSION);
  view.setInt32(2, coordinatorEpoch);
  return value;
}

/** One COMMIT or ABORT marker batch, CRC included, ready to append to a partition. */
export function buildEndTxnMarkerBatch(options: BuildEndTxnMarkerBatchOptions): Uint8Array {
  if (options.producerId < 0) throw new RangeError(`a marker needs a producer id, got ${options.producerId}`);
  if (options.producerEpoch < 0) throw new RangeError(`a marker needs a producer epoch, got ${options.producerEpoch}`);
  return buildRecordBatch({
    records: [{ key: encodeControlRecordKey(options.type), value: encodeEndTxnMarkerValue(options.coordinatorEpoch), timestamp: options.timestamp }],
    baseOffset: options.baseOffset ?? 0,
    partitionLeaderEpoch: options.partitionLeaderEpoch ?? -1,
    producerId: options.producerId,
    producerEpoch: options.producerEpoch,
    baseSequence: -1,
    transactional: true,
    isControl: true,
  });
}

/**
 * The control record type id of a control record key: 0 ABORT, 1 COMMIT, other ids as they are
 * (KRaft's, or unknown — a consumer skips them). A key shorter than 4 bytes or of another
 * version is INVALID_RECORD.
 */
export function decodeControlRecordKey(key: Uint8Array | null): number {
  if (key === null || key.length < CONTROL_KEY_BYTES) throw new ProtocolError('INVALID_RECORD', `control record key of ${key?.length ?? 'null'} bytes`);
  const view = new DataView(key.buffer, key.byteOffset, key.length);
  const version = view.getInt16(0);
  if (version !== CONTROL_KEY_VERSION) throw new ProtocolError('INVALID_RECORD', `control record key version ${version}`);
  return view.getInt16(2);
}

/**
 * The marker a control batch carries, or null when the batch is a control batch of another type.
 * Throws INVALID_RECORD when `batch` is not a control batch or its marker record is malformed.
 */
export function readEndTxnMarker(batch: RecordBatch): EndTxnMarker | null {
  if (!batch.isControl) throw new ProtocolError('INVALID_RECORD', 'not a control batch');
  if (batch.records.length !== 1) throw new ProtocolError('INVALID_RECORD', `a control batch holds ${batch.records.length} records`);
  const record = batch.records[0];
  const typeId = decodeControlRecordKey(record.key);
  if (typeId !== CONTROL_RECORD_ABORT && typeId !== CONTROL_RECORD_COMMIT) return null;
  const value = record.value;
  if (value === null || value.length < END_TXN_MARKER_VALUE_BYTES) {
    throw new ProtocolError('INVALID_RECORD', `end transaction marker value of ${value?.length ?? 'null'} bytes, needs ${END_TXN_MARKER_VALUE_BYTES}`);
  }
  const view = new DataView(value.buffer, value.byteOffset, value.length);
  const version = view.getInt16(0);
  if (version < 0) throw new ProtocolError('INVALID_RECORD', `end transaction marker version ${version}`);
  return { type: typeId === CONTROL_RECORD_COMMIT ? 'COMMIT' : 'ABORT', coordinatorEpoch: view.getInt32(2) };
}

// RecordBatch v2 (magic 2): build a batch from records and parse batches back, with every codec.
//
// A helper for tests, tools and the CLI's own client — not part of the sans-io codec core: the
// codec leaves record sets as opaque bytes, and the broker validates batch headers natively and
// never decompresses. This module may therefore use node:zlib (through
// record-batch-compression.ts).
//
// The on-wire batch, big-endian, as Kafka's DefaultRecordBatch defines it (set in stone):
//
//   offset  size  field
//        0     8  baseOffset             first offset of the batch
//        8     4  batchLength            bytes after this field (total size - 12)
//       12     4  partitionLeaderEpoch
//       16     1  magic                  2
//       17     4  crc                    CRC-32C (Castagnoli) of bytes 21 .. end, unsigned
//       21     2  attributes             bits 0-2 compression codec, 3 timestamp type
//                                        (1 = LogAppendTime), 4 transactional, 5 control batch,
//                                        6 has delete horizon (baseTimestamp is the horizon)
//       23     4  lastOffsetDelta
//       27     8  baseTimestamp
//       35     8  maxTimestamp
//       43     8  producerId             -1 when not idempotent
//       51     2  producerEpoch          -1 when not idempotent
//       53     4  baseSequence           -1 when not idempotent
//       57     4  recordCount
//       61     …  records, compressed as one unit when the codec is not 'none'
//
// Each record (varint = zig-zag LEB128, as protobuf's sint32/sint64):
//   length varint (bytes after this field), attributes int8 (unused, 0),
//   timestampDelta varlong, offsetDelta varint, keyLength varint (-1 = null), key,
//   valueLength varint (-1 = null), value, headerCount varint, then per header:
//   keyLength varint, key (UTF-8), valueLength varint (-1 = null), value.

import { ProtocolError } from './errors.ts';
import { type Compression, compress, compressionCodes, compressionFromCode, decompress } from './record-batch-compression.ts';

export type { Compression } from './record-batch-compression.ts';

export const RECORD_BATCH_MAGIC = 2;
/** Size of the fixed batch header, up to and including recordCount. */
export const RECORD_BATCH_HEADER_BYTES = 61;
/** batchLength counts from partitionLeaderEpoch: the 12 bytes of baseOffset and itself are outside. */
export const RECORD_BATCH_LENGTH_OFFSET = 12;
const CRC_OFFSET = 17;
const ATTRIBUTES_OFFSET = 21;
const MIN_BATCH_LENGTH = RECORD_BATCH_HEADER_BYTES - RECORD_BATCH_LENGTH_OFFSET;
// The smallest record: length, attributes, timestampDelta, offsetDelta, key length, value
// length and header count, one byte each. Bounds a claimed record count before decoding.
const MIN_RECORD_BYTES = 7;

const ATTR_COMPRESSION_MASK = 0x07;
const ATTR_LOG_APPEND_TIME = 0x08;
const ATTR_TRANSACTIONAL = 0x10;
const ATTR_CONTROL = 0x20;
const ATTR_DELETE_HORIZON = 0x40;

/** Default ceiling for a batch's decompressed record bytes (zip-bomb guard); see ParseOptions. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024;

export type TimestampType = 'CreateTime' | 'LogAppendTime';

export interface RecordHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

export interface RecordInput {
  /** Strings are encoded as UTF-8. */
  readonly key: Uint8Array | string | null;
  readonly value: Uint8Array | string | null;
  readonly headers?: readonly { readonly key: string; readonly value: Uint8Array | string | null }[];
  /** Milliseconds since the epoch; defaults to the time of the build call. */
  readonly timestamp?: number;
  /** Defaults to the record's index; must increase strictly through the batch. */
  readonly offsetDelta?: number;
}

export interface BuildRecordBatchOptions {
  readonly records: readonly RecordInput[];
  readonly compression?: Compression;
  /** Default 0; the broker assigns the real offset on append. */
  readonly baseOffset?: number;
  /** Default -1: producers leave it to the broker. */
  readonly partitionLeaderEpoch?: number;
  /** Default -1 (not idempotent). */
  readonly producerId?: number;
  /** Default -1. */
  readonly producerEpoch?: number;
  /** Default -1. */
  readonly baseSequence?: number;
  readonly transactional?: boolean;
  /** A control batch (transaction markers); the caller supplies the control records' bytes. */
  readonly isControl?: boolean;
  /** Default 'CreateTime'. */
  readonly timestampType?: TimestampType;
}

/** The fixed header fields, read without decompressing anything. */
export interface RecordBatchHeader {
  readonly baseOffset: number;
  readonly batchLength: number;
  readonly partitionLeaderEpoch: number;
  readonly magic: number;
  /** Unsigned. */
  readonly crc: number;
  readonly attributes: number;
  readonly lastOffsetDelta: number;
  readonly baseTimestamp: number;
  readonly maxTimestamp: number;
  readonly producerId: number;
  readonly producerEpoch: number;
  readonly baseSequence: number;
  readonly recordCount: number;
}

export interface BatchRecord {
  readonly offset: number;
  readonly offsetDelta: number;
  /** For LogAppendTime batches this is the batch's maxTimestamp, as Kafka reports it. */
  readonly timestamp: number;
  readonly timestampDelta: number;
  readonly attributes: number;
  /** Views into the (decompressed) batch bytes, not copies. */
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly RecordHeader[];
}

export interface RecordBatch extends RecordBatchHeader {
  readonly compression: Compression;
  readonly timestampType: TimestampType;
  readonly transactional: boolean;
  readonly isControl: boolean;
  readonly hasDeleteHorizon: boolean;
  readonly records: readonly BatchRecord[];
}

export interface ParseRecordBatchesOptions {
  /** Check each batch's CRC-32C (default true). */
  readonly verifyCrc?: boolean;
  /**
   * A Fetch response may end with a partial batch (the broker cuts at max bytes); with this set,
   * parsing stops there instead of throwing TRUNCATED. Default false.
   */
  readonly allowTruncatedTail?: boolean;
  /** Per-batch ceiling on decompressed record bytes. Default DEFAULT_MAX_UNCOMPRESSED_BYTES. */
  readonly maxUncompressedBytes?: number;
}

// ---------------------------------------------------------------------------------------------
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), byte-at-a-time over a 256-entry table.
// Throughput is irrelevant here (tests and tools); the broker's CRC runs in Rust.

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32C of bytes[start, end), unsigned. */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Building.

const utf8 = new TextEncoder();

function toBytes(value: Uint8Array | string | null): Uint8Array | null {
  return typeof value === 'string' ? utf8.encode(value) : value;
}

function requireSafeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${value}`);
}

function requireInt32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
    throw new RangeError(`${name} must be an int32, got ${value}`);
  }
}

/** A growable byte buffer for building; only ever fed our own caller's records. */
class ByteWriter {
  bytes = new Uint8Array(256);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.length + n, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  int8(v: number): void {
    this.ensure(1);
    this.bytes[this.length++] = v & 0xff;
  }

  raw(chunk: Uint8Array): void {
    this.ensure(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** Unsigned LEB128 of a non-negative safe integer. */
  uvarlong(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  /** Zig-zag varint of an int32. */
  varint(v: number): void {
    this.uvarlong(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Zig-zag varlong of a safe integer (zig-zag done in float arithmetic: exact below 2^52). */
  varlong(v: number): void {
    this.uvarlong(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  nullableBytes(v: Uint8Array | null): void {
    if (v === null) {
      this.varint(-1);
    } else {
      this.varint(v.length);
      this.raw(v);
    }
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

/** Builds one RecordBatch v2 with a correct CRC-32C. Throws RangeError on invalid options. */
export function buildRecordBatch(options: BuildRecordBatchOptions): Uint8Array {
  const { records } = options;
  if (records.length === 0) throw new RangeError('a RecordBatch holds at least one record');
  const compression = options.compression ?? 'none';
  if (!Object.hasOwn(compressionCodes, compression)) throw new RangeError(`unknown compression ${String(compression)}`);
  const baseOffset = options.baseOffset ?? 0;
  const partitionLeaderEpoch = options.partitionLeaderEpoch ?? -1;
  const producerId = options.producerId ?? -1;
  const producerEpoch = options.producerEpoch ?? -1;
  const baseSequence = options.baseSequence ?? -1;
  requireSafeInteger('baseOffset', baseOffset);
  requireInt32('partitionLeaderEpoch', partitionLeaderEpoch);
  requireSafeInteger('producerId', producerId);
  if (!Number.isInteger(producerEpoch) || producerEpoch < -0x8000 || producerEpoch > 0x7fff) {
    throw new RangeError(`producerEpoch must be an int16, got ${producerEpoch}`);
  }
  requireInt32('baseSequence', baseSequence);

  const now = Date.now();
  const timestamps = records.map((r) => r.timestamp ?? now);
  timestamps.forEach((t, i) => requireSafeInteger(`records[${i}].timestamp`, t));
  const baseTimestamp = timestamps[0];
  const maxTimestamp = timestamps.reduce((max, t) => Math.max(max, t));

  const body = new ByteWriter();
  const recordWriter = new ByteWriter();
  let previousDelta = -1;
  records.forEach((record, i) => {
    const offsetDelta = record.offsetDelta ?? i;
    requireInt32(`records[${i}].offsetDelta`, offsetDelta);
    if (offsetDelta <= previousDelta) throw new RangeError(`records[${i}].offsetDelta must increase, got ${offsetDelta}`);
    previousDelta = offsetDelta;
    recordWriter.length = 0;
    recordWriter.int8(0);
    recordWriter.varlong(timestamps[i] - baseTimestamp);
    recordWriter.varint(offsetDelta);
    recordWriter.nullableBytes(toBytes(record.key));
    recordWriter.nullableBytes(toBytes(record.value));
    const headers = record.headers ?? [];
    recordWriter.varint(headers.length);
    for (const header of headers) {
      const key = utf8.encode(header.key);
      recordWriter.varint(key.length);
      recordWriter.raw(key);
      recordWriter.nullableBytes(toBytes(header.value));
    }
    body.varint(recordWriter.length);
    body.raw(recordWriter.result());
  });
  const payload = compress(compression, body.result());

  let attributes = compressionCodes[compression];
  if ((options.timestampType ?? 'CreateTime') === 'LogAppendTime') attributes |= ATTR_LOG_APPEND_TIME;
  if (options.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (options.isControl) attributes |= ATTR_CONTROL;

  const batch = new Uint8Array(RECORD_BATCH_HEADER_BYTES + payload.length);
  const view = new DataView(batch.buffer);
  view.setBigInt64(0, BigInt(baseOffset));
  view.setInt32(8, batch.length - RECORD_BATCH_LENGTH_OFFSET);
  view.setInt32(12, partitionLeaderEpoch);
  view.setInt8(16, RECORD_BATCH_MAGIC);
  view.setInt16(ATTRIBUTES_OFFSET, attributes);
  view.setInt32(23, previousDelta); // lastOffsetDelta: the last record's offsetDelta
  view.setBigInt64(27, BigInt(baseTimestamp));
  view.setBigInt64(35, BigInt(maxTimestamp));
  view.setBigInt64(43, BigInt(producerId));
  view.setInt16(51, producerEpoch);
  view.setInt32(53, baseSequence);
  view.setInt32(57, records.length);
  batch.set(payload, RECORD_BATCH_HEADER_BYTES);
  view.setUint32(CRC_OFFSET, crc32c(batch, ATTRIBUTES_OFFSET));
  return batch;
}

// ---------------------------------------------------------------------------------------------
// Parsing. Every error is a ProtocolError with one of these codes:
//   TRUNCATED, INVALID_LENGTH, UNSUPPORTED_MAGIC, CRC_MISMATCH, UNSUPPORTED_COMPRESSION,
//   CORRUPT_COMPRESSED_DATA, UNCOMPRESSED_TOO_LARGE, INVALID_VARINT, INVALID_RECORD.

function readInt64(view: DataView, pos: number, what: string): number {
  const value = Number(view.getBigInt64(pos));
  if (!Number.isSafeInteger(value)) throw new ProtocolError('INVALID_RECORD', `${what} beyond 2^53`, pos);
  return value;
}

/** Reads the fixed header of the batch at `pos`; needs only its first 61 bytes. */
export function readBatchHeader(bytes: Uint8Array, pos = 0): RecordBatchHeader {
  if (pos < 0 || bytes.length - pos < RECORD_BATCH_HEADER_BYTES) {
    throw new ProtocolError('TRUNCATED', 'record batch header needs 61 bytes', pos);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + pos, RECORD_BATCH_HEADER_BYTES);
  return {
    baseOffset: readInt64(view, 0, 'baseOffset'),
    batchLength: view.getInt32(8),
    partitionLeaderEpoch: view.getInt32(12),
    magic: view.getInt8(16),
    crc: view.getUint32(CRC_OFFSET),
    attributes: view.getInt16(ATTRIBUTES_OFFSET),
    lastOffsetDelta: view.getInt32(23),
    baseTimestamp: readInt64(view, 27, 'baseTimestamp'),
    maxTimestamp: readInt64(view, 35, 'maxTimestamp'),
    producerId: readInt64(view, 43, 'producerId'),
    producerEpoch: view.getInt16(51),
    baseSequence: view.getInt32(53),
    recordCount: view.getInt32(57),
  };
}

/** Parses the concatenated batches in `bytes` (a partition's record set), decompressing each. */
export function parseRecordBatches(bytes: Uint8Array, options: ParseRecordBatchesOptions = {}): RecordBatch[] {
  const verifyCrc = options.verifyCrc ?? true;
  const maxUncompressedBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  const batches: RecordBatch[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const remaining = bytes.length - pos;
    if (remaining < RECORD_BATCH_HEADER_BYTES) {
      if (options.allowTruncatedTail) break;
      throw new ProtocolError('TRUNCATED', `${remaining} bytes left, less than a batch header`, pos);
    }
    const header = readBatchHeader(bytes, pos);
    if (header.batchLength < MIN_BATCH_LENGTH) {
      throw new ProtocolError('INVALID_LENGTH', `batchLength ${header.batchLength} is below ${MIN_BATCH_LENGTH}`, pos + 8);
    }
    const end = pos + RECORD_BATCH_LENGTH_OFFSET + header.batchLength;
    if (end > bytes.length) {
      if (options.allowTruncatedTail) break;
      throw new ProtocolError('TRUNCATED', `batch of ${end - pos} bytes, ${remaining} available`, pos);
    }
    batches.push(parseOneBatch(bytes, pos, end, header, verifyCrc, maxUncompressedBytes));
    pos = end;
  }
  return batches;
}

function parseOneBatch(
  bytes: Uint8Array,
  start: number,
  end: number,
  header: RecordBatchHeader,
  verifyCrc: boolean,
  maxUncompressedBytes: number,
): RecordBatch {
  if (header.magic !== RECORD_BATCH_MAGIC) {
    throw new ProtocolError('UNSUPPORTED_MAGIC', `magic ${header.magic}; only RecordBatch v2 is supported`, start + 16);
  }
  if (verifyCrc) {
    const actual = crc32c(bytes, start + ATTRIBUTES_OFFSET, end);
    if (actual !== header.crc) {
      throw new ProtocolError('CRC_MISMATCH', `crc 0x${header.crc.toString(16)}, computed 0x${actual.toString(16)}`, start + CRC_OFFSET);
    }
  }
  const compression = compressionFromCode(header.attributes & ATTR_COMPRESSION_MASK);
  if (compression === null) {
    throw new ProtocolError('UNSUPPORTED_COMPRESSION', `codec id ${header.attributes & ATTR_COMPRESSION_MASK}`, start + ATTRIBUTES_OFFSET);
  }
  if (header.recordCount < 0) {
    throw new ProtocolError('INVALID_RECORD', `negative record count ${header.recordCount}`, start + 57);
  }
  const payload = bytes.subarray(start + RECORD_BATCH_HEADER_BYTES, end);
  let recordBytes: Uint8Array;
  try {
    recordBytes = decompress(compression, payload, maxUncompressedBytes);
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new ProtocolError(error.code, `${compression} records of the batch at byte ${start}: ${error.message}`, undefined, { cause: error });
    }
    throw error;
  }
  const timestampType: TimestampType = header.attributes & ATTR_LOG_APPEND_TIME ? 'LogAppendTime' : 'CreateTime';
  // For uncompressed batches positions are absolute in `bytes`; for others, within recordBytes.
  const base = compression === 'none' ? start + RECORD_BATCH_HEADER_BYTES : 0;
  const records = decodeRecords(recordBytes, header, timestampType, base);
  return {
    ...header,
    compression,
    timestampType,
    transactional: (header.attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (header.attributes & ATTR_CONTROL) !== 0,
    hasDeleteHorizon: (header.attributes & ATTR_DELETE_HORIZON) !== 0,
    records,
  };
}

const utf8Decoder = new TextDecoder();

/** A bounds-checked cursor over one batch's record bytes. */
class RecordReader {
  private readonly bytes: Uint8Array;
  pos = 0;
  /** Reads never pass this; set to the end of the record being decoded. */
  limit: number;
  private readonly base: number;

  constructor(bytes: Uint8Array, base: number) {
    this.bytes = bytes;
    this.limit = bytes.length;
    this.base = base;
  }

  fail(code: string, message: string): never {
    throw new ProtocolError(code, message, this.base + this.pos);
  }

  int8(): number {
    if (this.pos >= this.limit) this.fail('INVALID_RECORD', 'record ends early');
    return (this.bytes[this.pos++] << 24) >> 24;
  }

  /** Unsigned LEB128 of at most `maxBytes` bytes, as a non-negative number. */
  private uvarlong(maxBytes: number): number {
    let value = 0;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.limit) this.fail('INVALID_RECORD', 'record ends inside a varint');
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * 2 ** (7 * i);
      if (byte < 0x80) return value;
    }
    return this.fail('INVALID_VARINT', `varint longer than ${maxBytes} bytes`);
  }

  varint(): number {
    const raw = this.uvarlong(5);
    if (raw > 0xffffffff) this.fail('INVALID_VARINT', 'varint exceeds 32 bits');
    return (raw >>> 1) ^ -(raw & 1);
  }

  varlong(): number {
    const raw = this.uvarlong(10);
    if (raw > Number.MAX_SAFE_INTEGER) this.fail('INVALID_VARINT', 'varlong beyond 2^53');
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  /** A varint length, then that many bytes as a view; -1 is null. */
  nullableBytes(what: string): Uint8Array | null {
    const length = this.varint();
    if (length === -1) return null;
    if (length < -1) this.fail('INVALID_RECORD', `${what} length ${length}`);
    if (length > this.limit - this.pos) this.fail('INVALID_RECORD', `${what} of ${length} bytes runs past the record`);
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }
}

function decodeRecords(bytes: Uint8Array, header: RecordBatchHeader, timestampType: TimestampType, base: number): BatchRecord[] {
  if (header.recordCount > bytes.length / MIN_RECORD_BYTES) {
    throw new ProtocolError('INVALID_RECORD', `${header.recordCount} records cannot fit in ${bytes.length} bytes`, base);
  }
  const reader = new RecordReader(bytes, base);
  const records: BatchRecord[] = [];
  for (let i = 0; i < header.recordCount; i++) {
    reader.limit = bytes.length;
    const length = reader.varint();
    if (length < 0 || length > bytes.length - reader.pos) reader.fail('INVALID_RECORD', `record length ${length} out of range`);
    reader.limit = reader.pos + length;
    const attributes = reader.int8();
    const timestampDelta = reader.varlong();
    const offsetDelta = reader.varint();
    const key = reader.nullableBytes('key');
    const value = reader.nullableBytes('value');
    const headerCount = reader.varint();
    if (headerCount < 0 || headerCount > (reader.limit - reader.pos) / 2) {
      reader.fail('INVALID_RECORD', `header count ${headerCount} out of range`);
    }
    const headers: RecordHeader[] = [];
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.nullableBytes('header key');
      if (headerKey === null) reader.fail('INVALID_RECORD', 'null header key');
      headers.push({ key: utf8Decoder.decode(headerKey), value: reader.nullableBytes('header value') });
    }
    if (reader.pos !== reader.limit) reader.fail('INVALID_RECORD', `${reader.limit - reader.pos} unread bytes in record`);
    records.push({
      offset: header.baseOffset + offsetDelta,
      offsetDelta,
      timestamp: timestampType === 'LogAppendTime' ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      timestampDelta,
      attributes,
      key,
      value,
      headers,
    });
  }
  if (reader.pos !== bytes.length) {
    throw new ProtocolError('INVALID_RECORD', `${bytes.length - reader.pos} bytes after the last of ${header.recordCount} records`, base + reader.pos);
  }
  return records;
}

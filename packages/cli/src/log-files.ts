// Offline readers for a partition's on-disk files, for `sluice log dump` (kafka-dump-log.sh).
// They live in the CLI, not in @sluice/client (which speaks the Kafka protocol over the network)
// nor in @sluice/native (the dump must work where the addon is not built): only `log dump` reads
// segment files offline.
//
// The formats are Kafka's and set in stone (see crates/sluice-log segment.rs / index.rs):
//
//   <base>.log        RecordBatch v2 batches back to back, nothing between them. Each starts with
//                     baseOffset int64, batchLength int32 (bytes after this field), then the fixed
//                     header (61 bytes in all) and the records; CRC-32C covers bytes 21..end.
//   <base>.index      8-byte entries: relativeOffset int32 (offset - base), position int32.
//   <base>.timeindex 12-byte entries: timestamp int64, relativeOffset int32.
//   All big-endian; <base> is the segment's base offset in 20 decimal digits.
//
// The live active segment is readable too: its .log file may be longer than its data (mmap mode
// preallocates ahead of the write position) and its index files are preallocated to their full
// size, so a zero-filled tail is the end of the data, not corruption. A batch length of 0 is
// never valid, which is what makes a zero tail unambiguous for the log.
//
// Reading is incremental (one batch, or one 64 KiB block of index entries, at a time) and results
// are yielded as they are read, so a 1 GiB segment or a 10 MiB index needs little memory.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { type BatchRecord, crc32c, parseRecordBatches, type RecordBatchHeader, readBatchHeader } from '@sluice/protocol';

const LOG_OVERHEAD = 12; // baseOffset + batchLength
const BATCH_HEADER_BYTES = 61;
const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - LOG_OVERHEAD;
const CRC_START = 21;
const ZERO_SCAN_CHUNK = 1 << 20;
const INDEX_READ_CHUNK = 64 * 1024;

const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Random-access bytes of one file. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position` (fewer only at the end of the source). */
  read(position: number, length: number): Uint8Array;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (position, length) => bytes.subarray(position, Math.min(bytes.length, position + length)) };
}

/** A file opened for reading; close() when done. The size is taken once, at open. */
export function openFileSource(path: string): ByteSource & { close(): void } {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    read(position, length) {
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - position)));
      let done = 0;
      while (done < buf.length) {
        const n = readSync(fd, buf, done, buf.length - done, position + done);
        if (n === 0) return buf.subarray(0, done); // the file shrank under us (a roll trimmed it)
        done += n;
      }
      return buf;
    },
    close: () => closeSync(fd),
  };
}

export type FileKind = 'log' | 'index' | 'timeindex';

/** The kind and base offset from a segment file name such as 00000000000000001234.index. */
export function segmentFileName(path: string): { kind: FileKind; baseOffset: number } | null {
  const m = /^(\d{20})\.(log|index|timeindex)$/.exec(basename(path));
  if (m === null) return null;
  const baseOffset = Number(m[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { kind: m[2] as FileKind, baseOffset };
}

/** True when bytes [from, to) of the source are all zero. */
export function isZeroRange(src: ByteSource, from: number, to: number): boolean {
  for (let pos = from; pos < to; pos += ZERO_SCAN_CHUNK) {
    const chunk = src.read(pos, Math.min(ZERO_SCAN_CHUNK, to - pos));
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return false;
  }
  return true;
}

// --- .log -------------------------------------------------------------------------------------

export interface BatchEntry {
  readonly position: number;
  /** Whole batch, log overhead included. */
  readonly size: number;
  readonly header: RecordBatchHeader;
  readonly lastOffset: number;
  readonly computedCrc: number;
  readonly crcValid: boolean;
  readonly compression: string;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  readonly transactional: boolean;
  readonly control: boolean;
  /** With `records: true`: the decoded records, or why they could not be decoded. */
  readonly records?: readonly BatchRecord[] | { readonly error: string };
}

export type LogEnd =
  | { readonly kind: 'eof'; readonly position: number }
  /** A zero-filled preallocated tail from `position` to the end of the file. */
  | { readonly kind: 'zero-tail'; readonly position: number; readonly tailBytes: number }
  /** Bytes at `position` that are not a batch; the scan cannot go on. */
  | { readonly kind: 'corrupt'; readonly position: number; readonly detail: string };

/** Reads batches from position 0; the generator's return value says how the data ended. */
export function* scanLog(src: ByteSource, options: { records?: boolean } = {}): Generator<BatchEntry, LogEnd> {
  let pos = 0;
  while (pos < src.size) {
    const left = src.size - pos;
    if (left < LOG_OVERHEAD) {
      if (isZeroRange(src, pos, src.size)) return { kind: 'zero-tail', position: pos, tailBytes: left };
      return { kind: 'corrupt', position: pos, detail: `${left} trailing bytes, too few for a batch` };
    }
    const overhead = src.read(pos, LOG_OVERHEAD);
    const view = new DataView(overhead.buffer, overhead.byteOffset, LOG_OVERHEAD);
    const batchLength = view.getInt32(8);
    if (batchLength === 0 && view.getBigInt64(0) === 0n) {
      if (isZeroRange(src, pos, src.size)) return { kind: 'zero-tail', position: pos, tailBytes: left };
      return { kind: 'corrupt', position: pos, detail: 'a zero batch header followed by non-zero bytes' };
    }
    if (batchLength < MIN_BATCH_LENGTH)
      return { kind: 'corrupt', position: pos, detail: `batch length ${batchLength} is below the minimum ${MIN_BATCH_LENGTH}` };
    const size = LOG_OVERHEAD + batchLength;
    if (size > left) return { kind: 'corrupt', position: pos, detail: `batch of ${size} bytes runs past the end of the file (${left} bytes left)` };
    const bytes = src.read(pos, size);
    if (bytes.length < size) return { kind: 'corrupt', position: pos, detail: `the file ended while reading a ${size}-byte batch` };
    let header: RecordBatchHeader;
    try {
      header = readBatchHeader(bytes, 0);
    } catch (err) {
      return { kind: 'corrupt', position: pos, detail: `unreadable batch header: ${(err as Error).message}` };
    }
    const computedCrc = crc32c(bytes, CRC_START, size);
    const attributes = header.attributes;
    const entry: BatchEntry = {
      position: pos,
      size,
      header,
      lastOffset: header.baseOffset + header.lastOffsetDelta,
      computedCrc,
      crcValid: computedCrc === header.crc,
      compression: COMPRESSION_NAMES[attributes & 0x07] ?? `unknown(${attributes & 0x07})`,
      timestampType: attributes & 0x08 ? 'LogAppendTime' : 'CreateTime',
      transactional: (attributes & 0x10) !== 0,
      control: (attributes & 0x20) !== 0,
      records: options.records ? decodeRecords(bytes) : undefined,
    };
    yield entry;
    pos += size;
  }
  return { kind: 'eof', position: pos };
}

function decodeRecords(bytes: Uint8Array): readonly BatchRecord[] | { error: string } {
  try {
    return parseRecordBatches(bytes, { verifyCrc: false })[0]?.records ?? [];
  } catch (err) {
    return { error: (err as Error).message };
  }
}

// --- .index / .timeindex -------------------------------------------------------------------------

export interface OffsetIndexEntry {
  readonly relativeOffset: number;
  readonly offset: number;
  readonly position: number;
}

export interface TimeIndexEntry {
  readonly timestamp: number;
  readonly relativeOffset: number;
  readonly offset: number;
}

export interface IndexSummary {
  /** Entries yielded. */
  readonly entries: number;
  /** Trailing all-zero entries: the preallocated part of an active segment's index. */
  readonly zeroTailEntries: number;
  /** Bytes after the last whole entry (a well-formed index has none). */
  readonly partialBytes: number;
  /** How many entries do not follow their predecessor in order — a damaged index. */
  readonly outOfOrder: number;
  /** The first few of those, by entry number. */
  readonly outOfOrderSample: readonly number[];
}

const OUT_OF_ORDER_SAMPLE = 10;

/** Number of leading whole entries up to the last one holding a non-zero byte. */
function liveEntryCount(src: ByteSource, entrySize: number, count: number): number {
  // Scan backwards: the zero tail of an active segment's index is most of the file.
  for (let end = count * entrySize; end > 0; ) {
    const start = Math.max(0, end - INDEX_READ_CHUNK);
    const chunk = src.read(start, end - start);
    for (let i = chunk.length - 1; i >= 0; i--) if (chunk[i] !== 0) return Math.floor((start + i) / entrySize) + 1;
    end = start;
  }
  return 0;
}

function* scanEntries<T>(
  src: ByteSource,
  entrySize: number,
  decode: (view: DataView, at: number) => T,
  inOrder: (prev: T, next: T) => boolean,
): Generator<T, IndexSummary> {
  const count = Math.floor(src.size / entrySize);
  const live = liveEntryCount(src, entrySize, count);
  const perChunk = Math.floor(INDEX_READ_CHUNK / entrySize);
  let prev: T | null = null;
  let outOfOrder = 0;
  const outOfOrderSample: number[] = [];
  for (let i = 0; i < live; i += perChunk) {
    const n = Math.min(perChunk, live - i);
    const chunk = src.read(i * entrySize, n * entrySize);
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let k = 0; k < n; k++) {
      const entry = decode(view, k * entrySize);
      if (prev !== null && !inOrder(prev, entry)) {
        outOfOrder++;
        if (outOfOrderSample.length < OUT_OF_ORDER_SAMPLE) outOfOrderSample.push(i + k);
      }
      prev = entry;
      yield entry;
    }
  }
  return { entries: live, zeroTailEntries: count - live, partialBytes: src.size - count * entrySize, outOfOrder, outOfOrderSample };
}

export function scanOffsetIndex(src: ByteSource, baseOffset: number): Generator<OffsetIndexEntry, IndexSummary> {
  return scanEntries(
    src,
    8,
    (v, at) => {
      const relativeOffset = v.getInt32(at);
      return { relativeOffset, offset: baseOffset + relativeOffset, position: v.getInt32(at + 4) };
    },
    // Both fields strictly increase (index.rs).
    (a, b) => b.relativeOffset > a.relativeOffset && b.position > a.position,
  );
}

export function scanTimeIndex(src: ByteSource, baseOffset: number): Generator<TimeIndexEntry, IndexSummary> {
  return scanEntries(
    src,
    12,
    (v, at) => {
      const relativeOffset = v.getInt32(at + 8);
      return { timestamp: Number(v.getBigInt64(at)), relativeOffset, offset: baseOffset + relativeOffset };
    },
    // Timestamps strictly increase; offsets never decrease (index.rs).
    (a, b) => b.timestamp > a.timestamp && b.relativeOffset >= a.relativeOffset,
  );
}

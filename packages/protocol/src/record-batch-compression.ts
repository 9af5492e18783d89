// Compression codecs for the record sets inside RecordBatch v2, with Kafka's framing conventions:
//   1 gzip   — a gzip stream (RFC 1952)
//   2 snappy — snappy-java's "xerial" stream framing around snappy blocks; raw snappy accepted
//   3 lz4    — the LZ4 frame format (magic 0x184D2204)
//   4 zstd   — a zstd frame
//
// This module serves record-batch.ts, a helper for tests, tools and the CLI. It uses node:zlib,
// so it is deliberately outside the sans-io codec core; the broker itself never decompresses on
// its hot path (batches are stored exactly as the client compressed them).
//
// Decoders read untrusted bytes (whatever a client sent or a log holds). The formats we parse
// ourselves — xerial framing, snappy blocks, the LZ4 frame and LZ4 blocks — are decoded here with
// every length and back-reference checked, and every decompression is bounded by a caller-given
// maximum output size, so a lying length or a zip bomb is an error, not an allocation.
// Compressors only ever see our own input: gzip and zstd come from node:zlib and snappy blocks
// from snappyjs; LZ4 blocks are compressed here because the LZ4 end-of-block rules (the last
// match starts at least 12 bytes before the end, the last 5 bytes are literals) must hold exactly
// for strict decoders such as lz4-java's, which the Kafka broker uses to validate batches.

import { constants as bufferConstants } from 'node:buffer';
import { createRequire } from 'node:module';
import { gunzipSync, gzipSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { ProtocolError } from './errors.ts';

// snappyjs ships CommonJS without type declarations; this is the one function we use from it.
const snappyjs = createRequire(import.meta.url)('snappyjs') as {
  compress(uncompressed: Uint8Array): Uint8Array;
};

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** The codec id in the low three bits of a RecordBatch's attributes, as Kafka numbers them. */
export const compressionCodes: Readonly<Record<Compression, number>> = {
  none: 0,
  gzip: 1,
  snappy: 2,
  lz4: 3,
  zstd: 4,
};

const compressionByCode: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** The codec for an attributes codec id, or null for ids Kafka does not define (5-7). */
export function compressionFromCode(code: number): Compression | null {
  return compressionByCode[code] ?? null;
}

// Codes carried by the ProtocolError a decoder throws: bytes that are not valid for the codec,
// or that would decode to more than the caller allows.
export const CORRUPT_COMPRESSED_DATA = 'CORRUPT_COMPRESSED_DATA';
export const UNCOMPRESSED_TOO_LARGE = 'UNCOMPRESSED_TOO_LARGE';

function corrupt(message: string): never {
  throw new ProtocolError(CORRUPT_COMPRESSED_DATA, message);
}

export function compress(codec: Compression, data: Uint8Array): Uint8Array {
  switch (codec) {
    case 'none':
      return data;
    case 'gzip':
      return asUint8Array(gzipSync(data));
    case 'snappy':
      return snappyXerialCompress(data);
    case 'lz4':
      return lz4FrameCompress(data);
    case 'zstd':
      return asUint8Array(zstdCompressSync(data));
  }
}

/**
 * Decompresses `data`; the result never exceeds `maxOutputBytes` (larger output is a
 * ProtocolError UNCOMPRESSED_TOO_LARGE, detected before it is allocated). Invalid input is a
 * ProtocolError CORRUPT_COMPRESSED_DATA.
 */
export function decompress(codec: Compression, data: Uint8Array, maxOutputBytes: number): Uint8Array {
  switch (codec) {
    case 'none':
      if (data.length > maxOutputBytes) tooLarge(maxOutputBytes);
      return data;
    case 'gzip':
      return zlibDecompress((limit) => gunzipSync(data, { maxOutputLength: limit }), 'gzip', maxOutputBytes);
    case 'snappy':
      return snappyXerialDecompress(data, maxOutputBytes);
    case 'lz4':
      return lz4FrameDecompress(data, maxOutputBytes);
    case 'zstd':
      return zlibDecompress((limit) => zstdDecompressSync(data, { maxOutputLength: limit }), 'zstd', maxOutputBytes);
  }
}

function tooLarge(maxOutputBytes: number): never {
  throw new ProtocolError(UNCOMPRESSED_TOO_LARGE, `decompressed data exceeds ${maxOutputBytes} bytes`);
}

// node:zlib reports a too-large output as RangeError ERR_BUFFER_TOO_LARGE and bad input as an
// Error with a Z_* code; both become our typed error. Its maxOutputLength must lie in
// [1, kMaxLength], so a maximum of 0 (an empty record set) is enforced here after the call.
function zlibDecompress(run: (limit: number) => Uint8Array, what: string, maxOutputBytes: number): Uint8Array {
  const limit = Math.min(Math.max(1, maxOutputBytes), bufferConstants.MAX_LENGTH);
  let result: Uint8Array;
  try {
    result = asUint8Array(run(limit));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') tooLarge(maxOutputBytes);
    throw new ProtocolError(CORRUPT_COMPRESSED_DATA, `invalid ${what} data: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
  if (result.length > maxOutputBytes) tooLarge(maxOutputBytes);
  return result;
}

/** A plain Uint8Array view of the same memory (a Buffer compares unequal to a Uint8Array in tests). */
function asUint8Array(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * An output buffer that grows by doubling up to a fixed maximum. Decoders write into `bytes`
 * directly after `reserve(n)`; back-references read earlier output from the same array.
 */
class BoundedOutput {
  bytes: Uint8Array;
  length = 0;
  private readonly max: number;

  constructor(max: number, initialCapacity: number) {
    this.max = max;
    this.bytes = new Uint8Array(Math.max(0, Math.min(max, initialCapacity)));
  }

  reserve(n: number): void {
    const needed = this.length + n;
    if (needed > this.max) tooLarge(this.max);
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.min(this.max, Math.max(needed, this.bytes.length * 2, 1024)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  append(chunk: Uint8Array): void {
    this.reserve(chunk.length);
    this.bytes.set(chunk, this.length);
    this.length += chunk.length;
  }

  /** Copies `count` bytes starting `distance` bytes back; the ranges may overlap (RLE-style). */
  copyBack(distance: number, count: number): void {
    this.reserve(count);
    const out = this.bytes;
    let from = this.length - distance;
    let to = this.length;
    if (distance >= count) {
      out.copyWithin(to, from, from + count);
    } else {
      const end = to + count;
      while (to < end) out[to++] = out[from++];
    }
    this.length += count;
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

// ---------------------------------------------------------------------------------------------
// Snappy in snappy-java's stream framing (what the Java producer writes):
//   magic      8 bytes  0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00
//   version    int32 BE (1)
//   compatible int32 BE (1, the oldest reader version that can read this stream)
//   blocks     repeated: int32 BE compressed length, then one raw snappy block
// Kafka's readers also accept a bare raw snappy block (librdkafka has sent those), so we do too.

const XERIAL_MAGIC = Uint8Array.of(0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00);
const XERIAL_HEADER_BYTES = 16;
// snappy-java's default block size; each block compresses independently.
const XERIAL_BLOCK_BYTES = 32 * 1024;

export function snappyXerialCompress(data: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = [];
  let total = XERIAL_HEADER_BYTES;
  for (let start = 0; start < data.length; start += XERIAL_BLOCK_BYTES) {
    const block = snappyjs.compress(data.subarray(start, Math.min(data.length, start + XERIAL_BLOCK_BYTES)));
    blocks.push(block);
    total += 4 + block.length;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(XERIAL_MAGIC, 0);
  view.setInt32(8, 1);
  view.setInt32(12, 1);
  let pos = XERIAL_HEADER_BYTES;
  for (const block of blocks) {
    view.setInt32(pos, block.length);
    out.set(block, pos + 4);
    pos += 4 + block.length;
  }
  return out;
}

function hasXerialHeader(data: Uint8Array): boolean {
  if (data.length < XERIAL_HEADER_BYTES) return false;
  for (let i = 0; i < XERIAL_MAGIC.length; i++) if (data[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

export function snappyXerialDecompress(data: Uint8Array, maxOutputBytes: number): Uint8Array {
  const out = new BoundedOutput(maxOutputBytes, data.length * 2);
  if (!hasXerialHeader(data)) {
    snappyDecompressBlock(data, 0, data.length, out);
    return out.result();
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = XERIAL_HEADER_BYTES;
  while (pos < data.length) {
    if (data.length - pos < 4) corrupt('snappy: truncated xerial block length');
    const blockLength = view.getInt32(pos);
    pos += 4;
    if (blockLength < 0 || blockLength > data.length - pos) corrupt(`snappy: xerial block length ${blockLength} out of range`);
    snappyDecompressBlock(data, pos, pos + blockLength, out);
    pos += blockLength;
  }
  return out.result();
}

/**
 * Decodes one raw snappy block (uvarint uncompressed length, then literal/copy elements) from
 * src[start, end) onto `out`, checking every length and back-reference.
 */
function snappyDecompressBlock(src: Uint8Array, start: number, end: number, out: BoundedOutput): void {
  let pos = start;
  // Uncompressed length: an unsigned varint of at most 32 bits.
  let expected = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= end) corrupt('snappy: truncated block length');
    if (shift > 28) corrupt('snappy: block length varint too long');
    const byte = src[pos++];
    expected += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
  }
  if (expected > 0xffffffff) corrupt('snappy: block length exceeds 32 bits');
  const blockStart = out.length;
  out.reserve(expected); // fails before allocating when the length lies beyond the maximum
  const blockEnd = blockStart + expected;

  while (pos < end) {
    const tag = src[pos++];
    const kind = tag & 3;
    if (kind === 0) {
      // Literal: length-1 in the upper six bits, or in the next 1-4 bytes when those are 60-63.
      let length = (tag >>> 2) + 1;
      if (length > 60) {
        const extra = length - 60;
        if (end - pos < extra) corrupt('snappy: truncated literal length');
        length = 0;
        for (let i = 0; i < extra; i++) length += src[pos + i] * 2 ** (8 * i);
        length += 1;
        pos += extra;
      }
      if (length > end - pos) corrupt('snappy: literal runs past the input');
      if (length > blockEnd - out.length) corrupt('snappy: literal runs past the declared length');
      out.bytes.set(src.subarray(pos, pos + length), out.length);
      out.length += length;
      pos += length;
      continue;
    }
    let length: number;
    let distance: number;
    if (kind === 1) {
      if (end - pos < 1) corrupt('snappy: truncated copy');
      length = ((tag >>> 2) & 7) + 4;
      distance = ((tag >>> 5) << 8) | src[pos];
      pos += 1;
    } else if (kind === 2) {
      if (end - pos < 2) corrupt('snappy: truncated copy');
      length = (tag >>> 2) + 1;
      distance = src[pos] | (src[pos + 1] << 8);
      pos += 2;
    } else {
      if (end - pos < 4) corrupt('snappy: truncated copy');
      length = (tag >>> 2) + 1;
      distance = (src[pos] | (src[pos + 1] << 8) | (src[pos + 2] << 16) | (src[pos + 3] << 24)) >>> 0;
      pos += 4;
    }
    if (distance === 0 || distance > out.length - blockStart) corrupt(`snappy: copy distance ${distance} out of range`);
    if (length > blockEnd - out.length) corrupt('snappy: copy runs past the declared length');
    out.copyBack(distance, length);
  }
  if (out.length !== blockEnd) corrupt(`snappy: block decoded to ${out.length - blockStart} of ${expected} bytes`);
}

// ---------------------------------------------------------------------------------------------
// xxHash32, the checksum of the LZ4 frame format (header, block and content checksums).

const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;

function rotl32(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readU32LE(b: Uint8Array, i: number): number {
  return (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
}

function writeU32LE(b: Uint8Array, i: number, v: number): void {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

function xxh32Round(acc: number, lane: number): number {
  return Math.imul(rotl32((acc + Math.imul(lane, PRIME32_2)) | 0, 13), PRIME32_1);
}

/** xxHash32 of bytes[start, end) with the given seed, as an unsigned 32-bit number. */
export function xxh32(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  let pos = start;
  let h: number;
  if (end - start >= 16) {
    let v1 = (seed + PRIME32_1 + PRIME32_2) | 0;
    let v2 = (seed + PRIME32_2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME32_1) | 0;
    const limit = end - 16;
    while (pos <= limit) {
      v1 = xxh32Round(v1, readU32LE(bytes, pos));
      v2 = xxh32Round(v2, readU32LE(bytes, pos + 4));
      v3 = xxh32Round(v3, readU32LE(bytes, pos + 8));
      v4 = xxh32Round(v4, readU32LE(bytes, pos + 12));
      pos += 16;
    }
    h = (rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18)) | 0;
  } else {
    h = (seed + PRIME32_5) | 0;
  }
  h = (h + (end - start)) | 0;
  while (pos + 4 <= end) {
    h = Math.imul(rotl32((h + Math.imul(readU32LE(bytes, pos), PRIME32_3)) | 0, 17), PRIME32_4);
    pos += 4;
  }
  while (pos < end) {
    h = Math.imul(rotl32((h + Math.imul(bytes[pos], PRIME32_5)) | 0, 11), PRIME32_1);
    pos += 1;
  }
  h ^= h >>> 15;
  h = Math.imul(h, PRIME32_2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME32_3);
  h ^= h >>> 16;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// The LZ4 frame format (lz4_Frame_format.md):
//   magic        4 bytes LE 0x184D2204
//   FLG          version (2 bits, = 01) | block independence | block checksum | content size
//                | content checksum | reserved (0) | dictionary id
//   BD           reserved (0) | block max size id (3 bits: 4=64 KiB, 5=256 KiB, 6=1 MiB, 7=4 MiB)
//                | reserved (0000)
//   content size 8 bytes LE, when flagged
//   dict id      4 bytes LE, when flagged
//   HC           1 byte: (xxh32(FLG .. end of descriptor) >> 8) & 0xFF
//   blocks       4-byte LE size (high bit set = stored uncompressed; 0 = end mark), data,
//                then a 4-byte xxh32 of the data when block checksums are flagged
//   content xxh32 4 bytes LE after the end mark, when flagged
// Skippable frames (magic 0x184D2A50-5F, 4-byte LE size, payload) may appear between frames.

const LZ4_MAGIC = 0x184d2204;
const LZ4_FLG_VERSION_MASK = 0xc0;
const LZ4_FLG_VERSION_01 = 0x40;
const LZ4_FLG_BLOCK_INDEPENDENT = 0x20;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_CONTENT_CHECKSUM = 0x04;
const LZ4_FLG_RESERVED = 0x02;
const LZ4_FLG_DICT_ID = 0x01;
const LZ4_BLOCK_UNCOMPRESSED = 0x80000000;
// What Kafka's Java producer writes: 64 KiB independent blocks, no checksums beyond HC.
const LZ4_WRITE_BLOCK_SIZE_ID = 4;
const LZ4_WRITE_BLOCK_BYTES = 64 * 1024;

function lz4BlockMaxBytes(sizeId: number): number {
  return 1 << (8 + 2 * sizeId);
}

export function lz4FrameCompress(data: Uint8Array): Uint8Array {
  const scratch = new Uint8Array(lz4CompressBound(LZ4_WRITE_BLOCK_BYTES));
  const table = new Int32Array(1 << LZ4_HASH_LOG);
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(7);
  writeU32LE(header, 0, LZ4_MAGIC);
  header[4] = LZ4_FLG_VERSION_01 | LZ4_FLG_BLOCK_INDEPENDENT;
  header[5] = LZ4_WRITE_BLOCK_SIZE_ID << 4;
  header[6] = (xxh32(header, 4, 6) >>> 8) & 0xff;
  parts.push(header);
  let total = header.length;
  for (let start = 0; start < data.length; start += LZ4_WRITE_BLOCK_BYTES) {
    const end = Math.min(data.length, start + LZ4_WRITE_BLOCK_BYTES);
    const compressedLength = lz4CompressBlock(data, start, end, scratch, table);
    // Incompressible data is stored as is, flagged by the size word's high bit.
    const useCompressed = compressedLength < end - start;
    const size = useCompressed ? compressedLength : end - start;
    const block = new Uint8Array(4 + size);
    writeU32LE(block, 0, useCompressed ? size : (size | LZ4_BLOCK_UNCOMPRESSED) >>> 0);
    block.set(useCompressed ? scratch.subarray(0, size) : data.subarray(start, end), 4);
    parts.push(block);
    total += block.length;
  }
  parts.push(new Uint8Array(4)); // end mark
  total += 4;
  const out = new Uint8Array(total);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

export function lz4FrameDecompress(data: Uint8Array, maxOutputBytes: number): Uint8Array {
  const out = new BoundedOutput(maxOutputBytes, data.length * 3);
  let pos = 0;
  if (data.length === 0) corrupt('lz4: empty input');
  while (pos < data.length) {
    if (data.length - pos < 4) corrupt('lz4: truncated frame magic');
    const magic = readU32LE(data, pos);
    pos += 4;
    if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
      if (data.length - pos < 4) corrupt('lz4: truncated skippable frame');
      const skip = readU32LE(data, pos);
      if (skip > data.length - pos - 4) corrupt('lz4: skippable frame runs past the input');
      pos += 4 + skip;
      continue;
    }
    if (magic !== LZ4_MAGIC) corrupt(`lz4: bad frame magic 0x${magic.toString(16)}`);
    pos = lz4DecodeFrame(data, pos, out);
  }
  return out.result();
}

/** Decodes one frame whose descriptor starts at `pos` (just after the magic); returns its end. */
function lz4DecodeFrame(data: Uint8Array, descriptorStart: number, out: BoundedOutput): number {
  let pos = descriptorStart;
  if (data.length - pos < 3) corrupt('lz4: truncated frame descriptor');
  const flg = data[pos];
  const bd = data[pos + 1];
  if ((flg & LZ4_FLG_VERSION_MASK) !== LZ4_FLG_VERSION_01) corrupt('lz4: unsupported frame version');
  if ((flg & LZ4_FLG_RESERVED) !== 0 || (bd & 0x8f) !== 0) corrupt('lz4: reserved descriptor bits set');
  const sizeId = (bd >>> 4) & 7;
  if (sizeId < 4) corrupt(`lz4: invalid block max size id ${sizeId}`);
  const blockMax = lz4BlockMaxBytes(sizeId);
  const independent = (flg & LZ4_FLG_BLOCK_INDEPENDENT) !== 0;
  const blockChecksums = (flg & LZ4_FLG_BLOCK_CHECKSUM) !== 0;
  const hasContentSize = (flg & LZ4_FLG_CONTENT_SIZE) !== 0;
  const contentChecksum = (flg & LZ4_FLG_CONTENT_CHECKSUM) !== 0;
  const hasDictId = (flg & LZ4_FLG_DICT_ID) !== 0;
  const descriptorEnd = pos + 2 + (hasContentSize ? 8 : 0) + (hasDictId ? 4 : 0);
  if (data.length - descriptorEnd < 1) corrupt('lz4: truncated frame descriptor');
  const headerChecksum = (xxh32(data, pos, descriptorEnd) >>> 8) & 0xff;
  if (headerChecksum !== data[descriptorEnd]) corrupt('lz4: frame header checksum mismatch');
  // A preset dictionary is never used by Kafka clients, and we could not know its contents.
  if (hasDictId) corrupt('lz4: frames with a dictionary are not supported');
  let contentSize = -1;
  if (hasContentSize) {
    contentSize = readU32LE(data, pos + 2) + readU32LE(data, pos + 6) * 2 ** 32;
    out.reserve(contentSize); // refuses a declared size beyond the maximum up front
  }
  pos = descriptorEnd + 1;

  const frameStart = out.length;
  for (;;) {
    if (data.length - pos < 4) corrupt('lz4: truncated block size');
    const word = readU32LE(data, pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax) corrupt(`lz4: block of ${size} bytes exceeds the frame's ${blockMax}`);
    if (size > data.length - pos - (blockChecksums ? 4 : 0)) corrupt('lz4: block runs past the input');
    if (blockChecksums && xxh32(data, pos, pos + size) !== readU32LE(data, pos + size)) {
      corrupt('lz4: block checksum mismatch');
    }
    if ((word & LZ4_BLOCK_UNCOMPRESSED) !== 0) {
      out.append(data.subarray(pos, pos + size));
    } else {
      // Linked blocks may refer back into earlier blocks of the same frame (up to 64 KiB).
      lz4DecompressBlock(data, pos, pos + size, out, independent ? out.length : frameStart, blockMax);
    }
    pos += size + (blockChecksums ? 4 : 0);
  }
  if (contentChecksum) {
    if (data.length - pos < 4) corrupt('lz4: truncated content checksum');
    if (xxh32(out.bytes, frameStart, out.length) !== readU32LE(data, pos)) corrupt('lz4: content checksum mismatch');
    pos += 4;
  }
  if (hasContentSize && out.length - frameStart !== contentSize) {
    corrupt(`lz4: frame decoded to ${out.length - frameStart} bytes, descriptor says ${contentSize}`);
  }
  return pos;
}

/**
 * Decodes one LZ4 block (sequences of token, literals, 2-byte LE match distance, match length)
 * from src[start, end) onto `out`. Matches may reach back to `windowStart` at most; the block may
 * produce at most `maxBytes`.
 */
function lz4DecompressBlock(src: Uint8Array, start: number, end: number, out: BoundedOutput, windowStart: number, maxBytes: number): void {
  const limit = out.length + maxBytes;
  let pos = start;
  for (;;) {
    if (pos >= end) corrupt('lz4: truncated sequence');
    const token = src[pos++];
    let literals = token >>> 4;
    if (literals === 15) {
      let byte: number;
      do {
        if (pos >= end) corrupt('lz4: truncated literal length');
        byte = src[pos++];
        literals += byte;
      } while (byte === 255);
    }
    if (literals > end - pos) corrupt('lz4: literals run past the input');
    if (literals > limit - out.length) corrupt('lz4: block decodes past its maximum size');
    out.append(src.subarray(pos, pos + literals));
    pos += literals;
    if (pos === end) return; // the last sequence carries literals only
    if (end - pos < 2) corrupt('lz4: truncated match distance');
    const distance = src[pos] | (src[pos + 1] << 8);
    pos += 2;
    if (distance === 0 || distance > out.length - windowStart) corrupt(`lz4: match distance ${distance} out of range`);
    let matchLength = token & 15;
    if (matchLength === 15) {
      let byte: number;
      do {
        if (pos >= end) corrupt('lz4: truncated match length');
        byte = src[pos++];
        matchLength += byte;
      } while (byte === 255);
    }
    matchLength += LZ4_MIN_MATCH;
    if (matchLength > limit - out.length) corrupt('lz4: block decodes past its maximum size');
    out.copyBack(distance, matchLength);
  }
}

const LZ4_MIN_MATCH = 4;
// End-of-block rules of the LZ4 block format.
const LZ4_LAST_LITERALS = 5;
const LZ4_MATCH_START_LIMIT = 12;
const LZ4_HASH_LOG = 16;
const LZ4_MAX_DISTANCE = 65535;

function lz4CompressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/**
 * Greedy LZ4 block compression of src[start, end) into dst (sized by lz4CompressBound). Returns
 * the compressed length. `table` maps a 4-byte hash to (position + 1); entries from before
 * `start` are ignored, so blocks stay independent without clearing it.
 */
function lz4CompressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, table: Int32Array): number {
  let out = 0;
  let anchor = start;
  let pos = start;
  const matchStartLimit = end - LZ4_MATCH_START_LIMIT;
  const matchEndLimit = end - LZ4_LAST_LITERALS;
  let searches = 0;
  while (pos < matchStartLimit) {
    const sequence = readU32LE(src, pos);
    const hash = Math.imul(sequence, 2654435761) >>> (32 - LZ4_HASH_LOG);
    const candidate = table[hash] - 1;
    table[hash] = pos + 1;
    if (candidate < start || pos - candidate > LZ4_MAX_DISTANCE || readU32LE(src, candidate) !== sequence) {
      // Skip faster through incompressible stretches, as the reference compressor does.
      pos += 1 + (searches++ >>> 6);
      continue;
    }
    searches = 0;
    let matchEnd = pos + LZ4_MIN_MATCH;
    let from = candidate + LZ4_MIN_MATCH;
    while (matchEnd < matchEndLimit && src[matchEnd] === src[from]) {
      matchEnd++;
      from++;
    }
    out = lz4WriteSequence(src, anchor, pos, dst, out, pos - candidate, matchEnd - pos);
    pos = matchEnd;
    anchor = pos;
  }
  return lz4WriteSequence(src, anchor, end, dst, out, 0, 0);
}

/** Writes literals src[from, to) and, when matchLength > 0, a match; returns the new dst length. */
function lz4WriteSequence(src: Uint8Array, from: number, to: number, dst: Uint8Array, out: number, distance: number, matchLength: number): number {
  const literals = to - from;
  const matchCode = matchLength > 0 ? matchLength - LZ4_MIN_MATCH : 0;
  dst[out++] = (Math.min(literals, 15) << 4) | Math.min(matchCode, 15);
  if (literals >= 15) out = lz4WriteLength(dst, out, literals - 15);
  dst.set(src.subarray(from, to), out);
  out += literals;
  if (matchLength > 0) {
    dst[out++] = distance & 0xff;
    dst[out++] = distance >>> 8;
    if (matchCode >= 15) out = lz4WriteLength(dst, out, matchCode - 15);
  }
  return out;
}

function lz4WriteLength(dst: Uint8Array, out: number, remaining: number): number {
  while (remaining >= 255) {
    dst[out++] = 255;
    remaining -= 255;
  }
  dst[out++] = remaining;
  return out;
}

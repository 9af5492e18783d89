// RecordBatch v2 helpers: byte layout, round trips with every codec, interop with kafkajs's own
// batch encoder and decoder (an independent implementation), reference vectors for CRC-32C,
// xxHash32 and the LZ4 frame format, and malformed input (always a ProtocolError, never another
// exception).
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ProtocolError } from './errors.ts';
import {
  buildRecordBatch,
  type Compression,
  crc32c,
  parseRecordBatches,
  RECORD_BATCH_HEADER_BYTES,
  type RecordBatch,
  type RecordInput,
  readBatchHeader,
} from './record-batch.ts';
import { compress, decompress, lz4FrameCompress, lz4FrameDecompress, snappyXerialCompress, snappyXerialDecompress, xxh32 } from './record-batch-compression.ts';
import * as index from './index.ts';

const require = createRequire(import.meta.url);
const kafkajs = (path: string): any => require(`kafkajs/src/protocol/${path}`);
const Long = require('kafkajs/src/utils/long');
const Decoder = kafkajs('decoder');
const { RecordBatch: kafkajsRecordBatch } = kafkajs('recordBatch/v0');
const kafkajsDecodeBatch = kafkajs('recordBatch/v0/decoder');
const kafkajsRecord = kafkajs('recordBatch/record/v0');
const kafkajsCompression = kafkajs('message/compression');
const kafkajsCrc32c = kafkajs('recordBatch/crc32C');
const SnappyCodec = require('kafkajs-snappy');
const snappyjs = require('snappyjs');
const lz4js = require('lz4js');
const lz4jsXxh32 = require('lz4js/xxh32.js');

const CODECS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
const COMPRESSED: readonly Compression[] = ['gzip', 'snappy', 'lz4', 'zstd'];
const utf8 = new TextEncoder();
const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : new TextDecoder().decode(bytes));

/** Deterministic pseudo-random bytes (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomBytes(n: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
  return out;
}

/** The ProtocolError code `fn` throws; fails the test on success or on any other exception. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.code;
    throw new Error(`expected a ProtocolError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected a ProtocolError, parsing succeeded');
}

/** Runs `fn`; success or a ProtocolError is fine, anything else fails the test. */
function onlyProtocolErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ProtocolError)) throw new Error(`non-ProtocolError escaped: ${String(e)}`, { cause: e });
  }
}

/** Rewrites the CRC after a deliberate edit, so the check under test is the one that fires. */
function fixCrc(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(17, crc32c(batch, 21));
  return batch;
}

/** A varied record set: null and empty keys/values, UTF-8, headers (null values, repeats), gaps. */
function sampleRecords(count: number, seed: number): RecordInput[] {
  const next = prng(seed);
  const base = 1_700_000_000_000;
  return Array.from({ length: count }, (_, i) => ({
    key: i % 5 === 0 ? null : i % 7 === 0 ? '' : `key-${i}-ключ`,
    value: i % 11 === 3 ? null : utf8.encode(`value ${i} `.repeat(Math.floor(next() * 40))),
    headers:
      i % 3 === 0
        ? []
        : [
            { key: 'trace', value: `t-${i}` },
            { key: 'nullable', value: null },
            { key: 'trace', value: randomBytes(i % 17, i) },
          ],
    // Not monotonic: negative timestamp deltas are legal.
    timestamp: base + Math.floor(next() * 10_000) - 5_000,
    offsetDelta: i * 2 + (i > 10 ? 3 : 0),
  }));
}

function expectRecordsMatch(batch: RecordBatch, input: readonly RecordInput[], baseOffset: number): void {
  expect(batch.records).toHaveLength(input.length);
  batch.records.forEach((record, i) => {
    const want = input[i];
    const wantDelta = want.offsetDelta ?? i;
    expect(record.offsetDelta).toBe(wantDelta);
    expect(record.offset).toBe(baseOffset + wantDelta);
    expect(record.timestamp).toBe(want.timestamp);
    expect(record.key).toEqual(want.key === null ? null : typeof want.key === 'string' ? utf8.encode(want.key) : want.key);
    expect(record.value).toEqual(want.value === null ? null : typeof want.value === 'string' ? utf8.encode(want.value) : want.value);
    expect(record.headers).toEqual((want.headers ?? []).map((h) => ({ key: h.key, value: typeof h.value === 'string' ? utf8.encode(h.value) : h.value })));
  });
}

describe('checksums', () => {
  test('CRC-32C known vectors', () => {
    expect(crc32c(utf8.encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xFF, and an ascending 0..31.
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  test('CRC-32C agrees with kafkajs over random data and sub-ranges', () => {
    for (const n of [1, 7, 64, 1000, 4099]) {
      const bytes = randomBytes(n, n);
      expect(crc32c(bytes)).toBe(kafkajsCrc32c(Buffer.from(bytes)));
      expect(crc32c(bytes, 1, n)).toBe(kafkajsCrc32c(Buffer.from(bytes.subarray(1))));
    }
  });

  test('xxHash32 known vectors and agreement with lz4js', () => {
    expect(xxh32(new Uint8Array(0))).toBe(0x02cc5d05);
    expect(xxh32(utf8.encode('abc'))).toBe(0x32d153ff);
    for (const n of [0, 1, 3, 4, 15, 16, 17, 31, 32, 100, 1027]) {
      const bytes = randomBytes(n + 5, n);
      expect(xxh32(bytes, 5, n + 5)).toBe(lz4jsXxh32.hash(0, bytes, 5, n) >>> 0);
      expect(xxh32(bytes, 5, n + 5, 0x9747b28c)).toBe(lz4jsXxh32.hash(0x9747b28c, bytes, 5, n) >>> 0);
    }
  });
});

describe('buildRecordBatch', () => {
  test('writes the fixed header as Kafka lays it out', () => {
    const batch = buildRecordBatch({
      baseOffset: 2 ** 40 + 5,
      partitionLeaderEpoch: 9,
      producerId: 2 ** 33,
      producerEpoch: 3,
      baseSequence: 77,
      transactional: true,
      records: [
        { key: 'k', value: 'v', headers: [], timestamp: 1000, offsetDelta: 0 },
        { key: null, value: 'w', headers: [], timestamp: 900, offsetDelta: 4 },
      ],
      compression: 'none',
    });
    const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    expect(view.getBigInt64(0)).toBe(BigInt(2 ** 40 + 5));
    expect(view.getInt32(8)).toBe(batch.length - 12);
    expect(view.getInt32(12)).toBe(9);
    expect(view.getInt8(16)).toBe(2);
    expect(view.getUint32(17)).toBe(crc32c(batch, 21));
    expect(view.getInt16(21)).toBe(0x10); // transactional, CreateTime, no compression
    expect(view.getInt32(23)).toBe(4);
    expect(view.getBigInt64(27)).toBe(1000n);
    expect(view.getBigInt64(35)).toBe(1000n);
    expect(view.getBigInt64(43)).toBe(BigInt(2 ** 33));
    expect(view.getInt16(51)).toBe(3);
    expect(view.getInt32(53)).toBe(77);
    expect(view.getInt32(57)).toBe(2);
    // First record: length 8, attributes 0, timestampDelta 0, offsetDelta 0, key "k", value "v", 0 headers.
    expect([...batch.subarray(61, 70)]).toEqual([16, 0, 0, 0, 2, 0x6b, 2, 0x76, 0]);
    // Second: timestampDelta -100 (zig-zag 199 = 0xC7 0x01), offsetDelta 4 (8), null key (1).
    expect([...batch.subarray(70)]).toEqual([16, 0, 0xc7, 0x01, 8, 1, 2, 0x77, 0]);
  });

  test('is byte-identical to kafkajs for an uncompressed batch', async () => {
    const records = kafkajsEncodable(sampleRecords(30, 1));
    const ours = buildRecordBatch({
      baseOffset: 123,
      partitionLeaderEpoch: 0,
      producerId: 4000,
      producerEpoch: 2,
      baseSequence: 10,
      records,
      compression: 'none',
    });
    const header = readBatchHeader(ours);
    const theirs = await kafkajsRecordBatch({
      compression: kafkajsCompression.Types.None,
      firstOffset: Long.fromNumber(123),
      firstTimestamp: header.baseTimestamp,
      maxTimestamp: header.maxTimestamp,
      partitionLeaderEpoch: 0,
      lastOffsetDelta: header.lastOffsetDelta,
      producerId: Long.fromNumber(4000),
      producerEpoch: 2,
      firstSequence: 10,
      records: records.map((r) => kafkajsRecordInput(r, header.baseTimestamp)),
    });
    expect(new Uint8Array(theirs.buffer)).toEqual(ours);
  });

  test('rejects what cannot be encoded', () => {
    const one = [{ key: null, value: 'x', headers: [], timestamp: 1 }];
    expect(() => buildRecordBatch({ records: [], compression: 'none' })).toThrow(RangeError);
    expect(() =>
      buildRecordBatch({
        records: [
          { key: null, value: 'a', headers: [], timestamp: 1, offsetDelta: 1 },
          { key: null, value: 'b', headers: [], timestamp: 1, offsetDelta: 1 },
        ],
      }),
    ).toThrow(RangeError);
    expect(() => buildRecordBatch({ records: one, producerEpoch: 0x8000 })).toThrow(RangeError);
    expect(() => buildRecordBatch({ records: one, baseSequence: 2 ** 31 })).toThrow(RangeError);
    expect(() => buildRecordBatch({ records: one, baseOffset: 2 ** 53 })).toThrow(RangeError);
    expect(() => buildRecordBatch({ records: one, compression: 'brotli' as Compression })).toThrow(RangeError);
  });

  test('defaults: offsets by index, timestamps now, not idempotent, CreateTime', () => {
    const before = Date.now();
    const [batch] = parseRecordBatches(
      buildRecordBatch({
        records: [
          { key: null, value: 'a' },
          { key: null, value: 'b' },
        ],
      }),
    );
    expect(batch).toMatchObject({
      baseOffset: 0,
      partitionLeaderEpoch: -1,
      producerId: -1,
      producerEpoch: -1,
      baseSequence: -1,
      compression: 'none',
      timestampType: 'CreateTime',
      transactional: false,
      isControl: false,
      lastOffsetDelta: 1,
      recordCount: 2,
    });
    expect(batch.records.map((r) => r.offset)).toEqual([0, 1]);
    expect(batch.baseTimestamp).toBeGreaterThanOrEqual(before);
    expect(batch.baseTimestamp).toBeLessThanOrEqual(Date.now());
  });
});

describe.each(CODECS)('round trip with %s', (compression) => {
  test('varied records, every field back', () => {
    const records = sampleRecords(200, 7);
    const bytes = buildRecordBatch({
      baseOffset: 5_000_000_000,
      partitionLeaderEpoch: 12,
      producerId: 77,
      producerEpoch: 1,
      baseSequence: 300,
      transactional: true,
      records,
      compression,
    });
    const batches = parseRecordBatches(bytes);
    expect(batches).toHaveLength(1);
    const [batch] = batches;
    const timestamps = records.map((r) => r.timestamp as number);
    expect(batch).toMatchObject({
      baseOffset: 5_000_000_000,
      batchLength: bytes.length - 12,
      partitionLeaderEpoch: 12,
      magic: 2,
      crc: crc32c(bytes, 21),
      lastOffsetDelta: records[records.length - 1].offsetDelta,
      baseTimestamp: timestamps[0],
      maxTimestamp: Math.max(...timestamps),
      producerId: 77,
      producerEpoch: 1,
      baseSequence: 300,
      recordCount: 200,
      compression,
      timestampType: 'CreateTime',
      transactional: true,
      isControl: false,
      hasDeleteHorizon: false,
    });
    expect(batch.attributes & 7).toBe(CODECS.indexOf(compression));
    // readBatchHeader gives exactly the fixed fields, with the values the full parse found.
    const header = readBatchHeader(bytes);
    expect(header).toEqual(Object.fromEntries(Object.keys(header).map((k) => [k, batch[k as keyof RecordBatch]])));
    expect(Object.keys(header).sort()).toEqual([
      'attributes',
      'baseOffset',
      'baseSequence',
      'baseTimestamp',
      'batchLength',
      'crc',
      'lastOffsetDelta',
      'magic',
      'maxTimestamp',
      'partitionLeaderEpoch',
      'producerEpoch',
      'producerId',
      'recordCount',
    ]);
    expectRecordsMatch(batch, records, 5_000_000_000);
    if (compression !== 'none') expect(bytes.length).toBeLessThan(buildRecordBatch({ records, compression: 'none' }).length);
  });

  test('large batch spanning many codec blocks, incompressible stretches included', () => {
    // ~600 KiB: several xerial (32 KiB) and LZ4 (64 KiB) blocks, some of them stored raw.
    const records = Array.from({ length: 40 }, (_, i) => ({
      key: `k${i}`,
      value: i % 4 === 0 ? randomBytes(20_000, i) : utf8.encode(`${i}:abcdefghij`.repeat(1200 + i * 10)),
      headers: [],
      timestamp: 1_600_000_000_000 + i,
    }));
    const [batch] = parseRecordBatches(buildRecordBatch({ records, compression }));
    expectRecordsMatch(batch, records, 0);
  });

  test('LogAppendTime: every record reports maxTimestamp', () => {
    const records = [
      { key: null, value: 'a', headers: [], timestamp: 10 },
      { key: null, value: 'b', headers: [], timestamp: 30 },
      { key: null, value: 'c', headers: [], timestamp: 20 },
    ];
    const [batch] = parseRecordBatches(buildRecordBatch({ records, compression, timestampType: 'LogAppendTime' }));
    expect(batch.timestampType).toBe('LogAppendTime');
    expect(batch.records.map((r) => r.timestamp)).toEqual([30, 30, 30]);
    expect(batch.records.map((r) => r.timestampDelta)).toEqual([0, 20, 10]);
  });
});

describe('record sets of several batches', () => {
  const first = buildRecordBatch({ baseOffset: 0, records: sampleRecords(5, 1), compression: 'gzip' });
  const second = buildRecordBatch({ baseOffset: 40, records: sampleRecords(8, 2), compression: 'lz4' });
  const third = buildRecordBatch({ baseOffset: 90, records: sampleRecords(3, 3), compression: 'none' });
  const all = Uint8Array.from([...first, ...second, ...third]);

  test('parses each batch in order', () => {
    const batches = parseRecordBatches(all);
    expect(batches.map((b) => [b.baseOffset, b.compression, b.records.length])).toEqual([
      [0, 'gzip', 5],
      [40, 'lz4', 8],
      [90, 'none', 3],
    ]);
    expect(readBatchHeader(all, first.length + second.length).baseOffset).toBe(90);
    // Uncompressed record fields are views into the input, not copies.
    expect(batches[2].records[1].value?.buffer).toBe(all.buffer);
  });

  test('a partial last batch is TRUNCATED, or skipped with allowTruncatedTail', () => {
    for (const cut of [1, 12, 60, 61, 62, third.length - 1]) {
      const bytes = all.subarray(0, first.length + second.length + cut);
      expect(codeOf(() => parseRecordBatches(bytes))).toBe('TRUNCATED');
      expect(parseRecordBatches(bytes, { allowTruncatedTail: true }).map((b) => b.baseOffset)).toEqual([0, 40]);
    }
    expect(parseRecordBatches(new Uint8Array(0))).toEqual([]);
  });
});

// kafkajs ships only gzip. Its snappy codec is the kafkajs-snappy plugin (raw snappy out, xerial
// or raw in); for LZ4 we plug in lz4js (an independent LZ4 frame implementation); for zstd a
// node:zlib codec — there the compression is the same library as ours, so what is checked is the
// batch framing around it.
const kafkajsCodecs: Record<Compression, { type: number; factory?: () => unknown }> = {
  none: { type: kafkajsCompression.Types.None },
  gzip: { type: kafkajsCompression.Types.GZIP },
  snappy: { type: kafkajsCompression.Types.Snappy, factory: SnappyCodec },
  lz4: {
    type: kafkajsCompression.Types.LZ4,
    factory: () => ({
      compress: async (encoder: any) => Buffer.from(lz4js.compress(encoder.buffer)),
      decompress: async (buffer: Buffer) => Buffer.from(lz4js.decompress(buffer)),
    }),
  },
  zstd: {
    type: kafkajsCompression.Types.ZSTD,
    factory: () => {
      const zlib = require('node:zlib');
      return {
        compress: async (encoder: any) => zlib.zstdCompressSync(encoder.buffer),
        decompress: async (buffer: Buffer) => zlib.zstdDecompressSync(buffer),
      };
    },
  },
};

/** kafkajs's record encoder cannot size a null header value; drop those headers. */
function kafkajsEncodable(records: readonly RecordInput[]): RecordInput[] {
  return records.map((r) => ({ ...r, headers: (r.headers ?? []).filter((h) => h.value !== null) }));
}

function kafkajsRecordInput(r: RecordInput, baseTimestamp: number, index = 0): any {
  const bytes = (v: Uint8Array | string | null) => (v === null ? null : typeof v === 'string' ? Buffer.from(v) : Buffer.from(v));
  const headers: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const h of r.headers ?? []) {
    const value = bytes(h.value);
    const existing = headers[h.key];
    headers[h.key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return kafkajsRecord({
    offsetDelta: r.offsetDelta ?? index,
    timestampDelta: (r.timestamp as number) - baseTimestamp,
    key: bytes(r.key),
    value: bytes(r.value),
    headers,
  });
}

describe('interop with kafkajs', () => {
  const saved = { ...kafkajsCompression.Codecs };
  beforeAll(() => {
    for (const { type, factory } of Object.values(kafkajsCodecs)) if (factory) kafkajsCompression.Codecs[type] = factory;
  });
  afterAll(() => {
    Object.assign(kafkajsCompression.Codecs, saved);
  });

  // kafkajs keys headers by name; keep one header per name so its object shape loses nothing.
  const records = sampleRecords(120, 21).map((r) => ({ ...r, headers: (r.headers ?? []).slice(0, 2) }));
  const encodable = kafkajsEncodable(records);

  test.each(CODECS)('a %s batch from kafkajs parses with ours', async (compression) => {
    const baseTimestamp = encodable[0].timestamp as number;
    const encoded = await kafkajsRecordBatch({
      compression: kafkajsCodecs[compression].type,
      firstOffset: Long.fromNumber(2 ** 35),
      firstTimestamp: baseTimestamp,
      maxTimestamp: Math.max(...encodable.map((r) => r.timestamp as number)),
      partitionLeaderEpoch: 4,
      lastOffsetDelta: encodable[encodable.length - 1].offsetDelta,
      transactional: true,
      producerId: Long.fromNumber(99),
      producerEpoch: 5,
      firstSequence: 17,
      records: encodable.map((r, i) => kafkajsRecordInput(r, baseTimestamp, i)),
    });
    const [batch] = parseRecordBatches(new Uint8Array(encoded.buffer));
    expect(batch).toMatchObject({
      baseOffset: 2 ** 35,
      partitionLeaderEpoch: 4,
      compression,
      transactional: true,
      producerId: 99,
      producerEpoch: 5,
      baseSequence: 17,
      recordCount: encodable.length,
    });
    expectRecordsMatch(batch, encodable, 2 ** 35);
  });

  test.each(CODECS)('a %s batch from ours parses with kafkajs', async (compression) => {
    const bytes = buildRecordBatch({ baseOffset: 1000, producerId: 8, producerEpoch: 2, baseSequence: 40, records, compression });
    const decoded = await kafkajsDecodeBatch(new Decoder(Buffer.from(bytes)));
    expect(decoded).toMatchObject({ firstOffset: '1000', producerId: '8', producerEpoch: 2, firstSequence: 40 });
    expect(decoded.records).toHaveLength(records.length);
    decoded.records.forEach((got: any, i: number) => {
      const want = records[i];
      expect(got.offset).toBe(String(1000 + (want.offsetDelta as number)));
      expect(got.timestamp).toBe(String(want.timestamp));
      expect(got.key === null ? null : text(got.key)).toBe(want.key);
      expect(got.value === null ? null : new Uint8Array(got.value)).toEqual(want.value);
      const headers = Object.fromEntries((want.headers ?? []).map((h) => [h.key, h.value]));
      expect(Object.keys(got.headers)).toEqual(Object.keys(headers));
      for (const [key, value] of Object.entries(headers)) expect(got.headers[key] === null ? null : text(got.headers[key])).toBe(value);
    });
  });
});

describe('codec framing', () => {
  const data = utf8.encode('snappy and lz4 framing, '.repeat(5000));

  test('xerial snappy: header, 32 KiB blocks each readable by snappyjs; raw snappy accepted', () => {
    const framed = snappyXerialCompress(data);
    expect([...framed.subarray(0, 16)]).toEqual([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    const view = new DataView(framed.buffer, framed.byteOffset);
    const out: number[] = [];
    for (let pos = 16; pos < framed.length; ) {
      const n = view.getInt32(pos);
      const block = snappyjs.uncompress(framed.subarray(pos + 4, pos + 4 + n));
      expect(block.length).toBeLessThanOrEqual(32 * 1024);
      out.push(...block);
      pos += 4 + n;
    }
    expect(Uint8Array.from(out)).toEqual(data);
    expect(snappyXerialDecompress(framed, data.length)).toEqual(data);
    expect(snappyXerialDecompress(snappyjs.compress(data), data.length)).toEqual(data);
    expect(snappyXerialDecompress(snappyXerialCompress(new Uint8Array(0)), 0)).toEqual(new Uint8Array(0));
  });

  test('LZ4 frame: the reference lz4 tool reads ours (via lz4js), we read a reference frame', () => {
    const ours = lz4FrameCompress(data);
    expect(ours[4]).toBe(0x60); // version 01, independent blocks, no checksums
    expect(ours[5]).toBe(0x40); // 64 KiB blocks, as Kafka's producer writes
    expect(new Uint8Array(lz4js.decompress(ours))).toEqual(data);
    expect(lz4FrameDecompress(new Uint8Array(lz4js.compress(data)), data.length)).toEqual(data);

    // Made by the reference `lz4 -B4 -BD -BX --content-size -12` (v1.9.4): linked 64 KiB blocks,
    // block checksums, content size and content checksum.
    const reference = Buffer.from(LZ4_REFERENCE_FRAME, 'base64');
    expect(reference[4]).toBe(0x5c);
    let expected = '';
    for (let i = 0; i < 9000; i++) expected += `offset ${i % 7} value ${i % 5};`;
    expect(text(lz4FrameDecompress(new Uint8Array(reference), 1 << 20))).toBe(expected);
    // Its blocks really are linked: declared independent (header checksum redone), a match that
    // reaches into the previous block is out of range.
    const independent = new Uint8Array(reference);
    independent[4] |= 0x20;
    independent[14] = (xxh32(independent, 4, 14) >>> 8) & 0xff;
    expect(codeOf(() => lz4FrameDecompress(independent, 1 << 20))).toBe('CORRUPT_COMPRESSED_DATA');
  });

  test('LZ4 block end rules hold for strict decoders: last 5 bytes literal, last match 12 bytes before the end', () => {
    for (const n of [0, 1, 12, 13, 20, 100, 65_536, 65_537, 200_000]) {
      const input = utf8.encode('ab'.repeat(n)).subarray(0, n);
      const frame = lz4FrameCompress(input);
      expect(lz4FrameDecompress(frame, n)).toEqual(input);
      expect(new Uint8Array(lz4js.decompress(frame))).toEqual(input);
      // Walk the first block's sequences to check the end-of-block rules.
      const size = new DataView(frame.buffer, frame.byteOffset).getUint32(7, true);
      if (n === 0 || size & 0x80000000) continue;
      let pos = 11;
      const end = 11 + size;
      let produced = 0;
      const blockBytes = Math.min(n, 65_536);
      for (;;) {
        const token = frame[pos++];
        let literals = token >>> 4;
        if (literals === 15) for (let b = 255; b === 255; literals += b) b = frame[pos++];
        pos += literals;
        produced += literals;
        if (pos === end) break;
        pos += 2;
        let match = token & 15;
        if (match === 15) for (let b = 255; b === 255; match += b) b = frame[pos++];
        expect(produced).toBeLessThanOrEqual(blockBytes - 12);
        produced += match + 4;
        expect(produced).toBeLessThanOrEqual(blockBytes - 5);
      }
      expect(produced).toBe(blockBytes);
    }
  });

  test('compress/decompress agree for every codec on edge sizes', () => {
    for (const codec of CODECS) {
      for (const n of [0, 1, 5, 13, 4096, 70_000]) {
        const input = randomBytes(n, n + 1);
        expect(decompress(codec, compress(codec, input), n)).toEqual(input);
      }
    }
  });
});

describe('malformed input gives a ProtocolError', () => {
  const records = sampleRecords(20, 5);
  const batches = Object.fromEntries(CODECS.map((c) => [c, buildRecordBatch({ records, compression: c })])) as Record<Compression, Uint8Array>;

  test('every truncation of every codec', () => {
    for (const codec of CODECS) {
      const whole = batches[codec];
      for (let cut = 0; cut < whole.length; cut++) {
        const bytes = whole.slice(0, cut);
        if (cut === 0) expect(parseRecordBatches(bytes)).toEqual([]);
        else expect(codeOf(() => parseRecordBatches(bytes))).toBe('TRUNCATED');
      }
    }
    expect(codeOf(() => readBatchHeader(batches.none.subarray(0, 60)))).toBe('TRUNCATED');
  });

  test('a flipped bit fails the CRC', () => {
    for (const codec of CODECS) {
      const whole = batches[codec];
      for (const pos of [21, 30, 57, RECORD_BATCH_HEADER_BYTES, whole.length - 1]) {
        const bytes = whole.slice();
        bytes[pos] ^= 0x04;
        expect(codeOf(() => parseRecordBatches(bytes))).toBe('CRC_MISMATCH');
      }
    }
  });

  test('damaged payloads, CRC check off: a value or a ProtocolError, never another exception', () => {
    for (const codec of CODECS) {
      const whole = batches[codec];
      const next = prng(CODECS.indexOf(codec) + 100);
      for (let pos = RECORD_BATCH_HEADER_BYTES; pos < whole.length; pos++) {
        const bytes = whole.slice();
        bytes[pos] ^= 1 + Math.floor(next() * 255);
        onlyProtocolErrors(() => parseRecordBatches(bytes, { verifyCrc: false }));
      }
      for (let i = 0; i < 200; i++) {
        const junk = randomBytes(Math.floor(next() * 300), i * 31 + CODECS.indexOf(codec));
        const bytes = Uint8Array.from([...whole.subarray(0, RECORD_BATCH_HEADER_BYTES), ...junk]);
        new DataView(bytes.buffer).setInt32(8, bytes.length - 12);
        onlyProtocolErrors(() => parseRecordBatches(fixCrc(bytes)));
      }
    }
  });

  test('header fields that cannot be', () => {
    const edit = (mutate: (view: DataView, bytes: Uint8Array) => void): Uint8Array => {
      const bytes = batches.none.slice();
      mutate(new DataView(bytes.buffer), bytes);
      return fixCrc(bytes);
    };
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt8(16, 1))))).toBe('UNSUPPORTED_MAGIC');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt32(8, 48))))).toBe('INVALID_LENGTH');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt32(8, -1))))).toBe('INVALID_LENGTH');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt16(21, 5))))).toBe('UNSUPPORTED_COMPRESSION');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt32(57, 21))))).toBe('INVALID_RECORD');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt32(57, 19))))).toBe('INVALID_RECORD');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt32(57, -1))))).toBe('INVALID_RECORD');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt32(57, 0x7fffffff))))).toBe('INVALID_RECORD');
    expect(codeOf(() => parseRecordBatches(edit((v) => v.setBigInt64(0, 2n ** 60n))))).toBe('INVALID_RECORD');
    // A compressed codec id on records that are not compressed.
    for (const id of [1, 2, 3, 4]) {
      expect(codeOf(() => parseRecordBatches(edit((v) => v.setInt16(21, id))))).toBe('CORRUPT_COMPRESSED_DATA');
    }
  });

  test('records that lie about their lengths', () => {
    const one = (recordBytes: number[]) => {
      const bytes = buildRecordBatch({ records: [{ key: null, value: 'abc', headers: [], timestamp: 0 }] }).slice(0, RECORD_BATCH_HEADER_BYTES);
      const out = Uint8Array.from([...bytes, ...recordBytes]);
      new DataView(out.buffer).setInt32(8, out.length - 12);
      return fixCrc(out);
    };
    // The well-formed record, to show the edits below are what fails.
    // Length 9 (zig-zag 18): attributes, timestampDelta 0, offsetDelta 0, null key, value "abc", no headers.
    expect(text(parseRecordBatches(one([18, 0, 0, 0, 1, 6, 0x61, 0x62, 0x63, 0]))[0].records[0].value)).toBe('abc');
    // Length 12 with one header "h" whose value is null.
    expect(parseRecordBatches(one([24, 0, 0, 0, 1, 6, 0x61, 0x62, 0x63, 2, 2, 0x68, 1]))[0].records[0].headers).toEqual([{ key: 'h', value: null }]);
    expect(codeOf(() => parseRecordBatches(one([18, 0, 0, 0, 1, 20, 0x61, 0x62, 0x63, 0])))).toBe('INVALID_RECORD'); // value runs past the record
    expect(codeOf(() => parseRecordBatches(one([20, 0, 0, 0, 1, 6, 0x61, 0x62, 0x63, 0])))).toBe('INVALID_RECORD'); // record runs past the batch
    expect(codeOf(() => parseRecordBatches(one([18, 0, 0, 0, 1, 3, 0x61, 0x62, 0x63, 0])))).toBe('INVALID_RECORD'); // value length -2
    expect(codeOf(() => parseRecordBatches(one([18, 0, 0, 0, 1, 6, 0x61, 0x62, 0x63, 2])))).toBe('INVALID_RECORD'); // a header with no bytes
    expect(codeOf(() => parseRecordBatches(one([20, 0, 0, 0, 1, 6, 0x61, 0x62, 0x63, 0, 0])))).toBe('INVALID_RECORD'); // an unread byte
    expect(codeOf(() => parseRecordBatches(one([22, 0, 0, 0, 1, 6, 0x61, 0x62, 0x63, 2, 1, 1])))).toBe('INVALID_RECORD'); // null header key
    expect(codeOf(() => parseRecordBatches(one([0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0])))).toBe('INVALID_VARINT'); // 6-byte varint
  });

  test('compressed data that is not valid for its codec', () => {
    expect(codeOf(() => decompress('gzip', utf8.encode('not gzip at all'), 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    expect(codeOf(() => decompress('zstd', utf8.encode('not zstd at all'), 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    expect(codeOf(() => decompress('lz4', utf8.encode('not lz4 at all'), 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    // Raw snappy: length 4, then a copy 1 byte back with nothing before it.
    expect(codeOf(() => decompress('snappy', Uint8Array.of(4, 0x01, 0x01), 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    // Raw snappy: claims 10 bytes, delivers a 3-byte literal.
    expect(codeOf(() => decompress('snappy', Uint8Array.of(10, 0x08, 0x61, 0x62, 0x63), 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    // Xerial header, then a block length past the end.
    const xerial = snappyXerialCompress(utf8.encode('hello'));
    new DataView(xerial.buffer).setInt32(16, 1000);
    expect(codeOf(() => decompress('snappy', xerial, 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    // LZ4: header checksum wrong; block checksum wrong; content checksum wrong.
    const frame = lz4FrameCompress(utf8.encode('hello hello hello hello hello'));
    frame[6] ^= 1;
    expect(codeOf(() => decompress('lz4', frame, 1000))).toBe('CORRUPT_COMPRESSED_DATA');
    const reference = new Uint8Array(Buffer.from(LZ4_REFERENCE_FRAME, 'base64'));
    for (const pos of [30, reference.length - 2]) {
      const damaged = reference.slice();
      damaged[pos] ^= 1;
      expect(codeOf(() => decompress('lz4', damaged, 1 << 20))).toBe('CORRUPT_COMPRESSED_DATA');
    }
  });

  test('decompression is bounded: a small input that inflates past the limit is UNCOMPRESSED_TOO_LARGE', () => {
    const zeros = new Uint8Array(4 << 20);
    for (const codec of COMPRESSED) {
      const small = compress(codec, zeros);
      expect(small.length).toBeLessThan(zeros.length / 10);
      expect(codeOf(() => decompress(codec, small, 1 << 20))).toBe('UNCOMPRESSED_TOO_LARGE');
    }
    // A limit of 0 still lets an empty record set through (zlib itself refuses a limit below 1).
    for (const codec of CODECS) {
      expect(decompress(codec, compress(codec, new Uint8Array(0)), 0)).toEqual(new Uint8Array(0));
      expect(codeOf(() => decompress(codec, compress(codec, Uint8Array.of(1)), 0))).toBe('UNCOMPRESSED_TOO_LARGE');
    }
    // A raw snappy block that merely claims 2^32-1 bytes is refused before anything is allocated.
    expect(codeOf(() => decompress('snappy', Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), 1 << 20))).toBe('UNCOMPRESSED_TOO_LARGE');
    // Through a batch: the per-batch option applies.
    const batch = buildRecordBatch({ records: [{ key: null, value: zeros, headers: [], timestamp: 0 }], compression: 'gzip' });
    expect(codeOf(() => parseRecordBatches(batch, { maxUncompressedBytes: 1 << 20 }))).toBe('UNCOMPRESSED_TOO_LARGE');
    expect(parseRecordBatches(batch)[0].records[0].value).toEqual(zeros);
  });

  test('gzip from another writer (zlib level 9) parses too', () => {
    const plain = buildRecordBatch({ records, compression: 'none' });
    const payload = gzipSync(plain.subarray(RECORD_BATCH_HEADER_BYTES), { level: 9 });
    const bytes = Uint8Array.from([...plain.subarray(0, RECORD_BATCH_HEADER_BYTES), ...payload]);
    const view = new DataView(bytes.buffer);
    view.setInt32(8, bytes.length - 12);
    view.setInt16(21, 1);
    expectRecordsMatch(parseRecordBatches(fixCrc(bytes))[0], records, 0);
  });
});

test('the package index exports the helpers', () => {
  expect(index.buildRecordBatch).toBe(buildRecordBatch);
  expect(index.parseRecordBatches).toBe(parseRecordBatches);
  expect(index.readBatchHeader).toBe(readBatchHeader);
  expect(index.crc32c).toBe(crc32c);
});

const LZ4_REFERENCE_FRAME = [
  'BCJNGFxAqFUCAAAAAACQtQEAAPMCb2Zmc2V0IDAgdmFsdWUgMDsRABMxEQAUMREAEzIRABQyEQATMxEAFDMRABM0EQAUNBEA',
  'HDVVABw2VQAcMFUAHDFVABwyVQAcM1UAHDRVABw1VQAcNlUAHDBVABwxVQAcMlUAHDNVABw0VQAcNVUAHDZVABwwVQAcMVUA',
  'HDJVABwzVQAcNFUAHDVVABw2VQAcMFUAHDFVABwyVQAcM1UAHDRVABw1VQAbNlUAD1MC////////////////////////////',
  '////////////////////////////////////////////////////////////////////////////////////////////////',
  '////////////////////////////////////////////////////////////////////////////////////////////////',
  '////////////////////////////////////////////////////////////////////////////////////////////////',
  '//////////////////////+NUGUgNDtvAje3SAoBAAAPUwL/////////////////////////////////////////////////',
  '////////////////////////////////////////////////////////////////////////////////////////////////',
  '////////////////////////////////////////////////////////////////////////////////////////////////',
  '////////////////////////////////////////////////////////////////////////////////////////////////',
  '////6FAgNDtvZr8zlEJfAAAAD1MC////////////////////////////////////////////////////////////////////',
  '/////////////////////////////////////////////+VQdWUgNDuwRpYPAAAAAJdFiVw=',
].join('');

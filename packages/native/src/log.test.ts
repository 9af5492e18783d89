import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binding } from './binding.ts';
import { NativeErrorCode, isNativeError } from './errors.ts';
import {
  PartitionLog,
  clearCleanShutdown,
  hasCleanShutdownMarker,
  lockLogDir,
  markCleanShutdown,
  readLogStartOffsetCheckpoint,
  readRecoveryPointCheckpoint,
  writeLogStartOffsetCheckpoint,
  writeRecoveryPointCheckpoint,
  type AppendMode,
} from './log.ts';
import { ConnectionWriter } from './writer.ts';

// --- RecordBatch v2 bytes, built here so the test depends on nothing but the addon ---

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function varint(value: number): number[] {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** One uncompressed batch: a record per timestamp, null keys, `valueLen`-byte values. */
function recordBatch(timestamps: number[], valueLen: number): Buffer {
  const base = Math.min(...timestamps);
  const records: number[] = [];
  timestamps.forEach((ts, i) => {
    const body = [0, ...varint(ts - base), ...varint(i), ...varint(-1), ...varint(valueLen)];
    for (let j = 0; j < valueLen; j++) body.push((i * 31 + j) & 0xff);
    body.push(...varint(0));
    records.push(...varint(body.length), ...body);
  });
  const batch = Buffer.alloc(61 + records.length);
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(49 + records.length, 8);
  batch.writeInt32BE(-1, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(0, 21);
  batch.writeInt32BE(timestamps.length - 1, 23);
  batch.writeBigInt64BE(BigInt(base), 27);
  batch.writeBigInt64BE(BigInt(Math.max(...timestamps)), 35);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt16BE(-1, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(timestamps.length, 57);
  Buffer.from(records).copy(batch, 61);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/** A batch of an idempotent producer: `count` records stamped now, first sequence `sequence`. */
function producerBatch(producerId: number, epoch: number, sequence: number, count: number): Buffer {
  const now = Date.now();
  const batch = recordBatch(
    Array.from({ length: count }, () => now),
    20,
  );
  batch.writeBigInt64BE(BigInt(producerId), 43);
  batch.writeInt16BE(epoch, 51);
  batch.writeInt32BE(sequence, 53);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(isNativeError(error)).toBe(true);
    return (error as { code: string }).code;
  }
  return undefined;
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-log-test-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const small = (appendMode: AppendMode) => ({
  appendMode,
  segmentBytes: 8192,
  indexIntervalBytes: 256,
  preallocateStepBytes: 4096,
  retentionMs: -1,
});

describe.each(['mmap', 'pwrite'] as const)('PartitionLog (%s)', (mode) => {
  it('appends, assigns offsets in place, and resolves every offset to its batch', () => {
    const log = PartitionLog.open(join(root, 'orders-0'), small(mode));
    const batches: { base: number; count: number; bytes: Buffer }[] = [];
    for (let i = 0; i < 60; i++) {
      const count = 1 + (i % 4);
      const bytes = recordBatch(
        Array.from({ length: count }, (_, k) => 1_000 + i * 10 + k),
        100 + i,
      );
      const result = log.append(bytes, 5_000);
      expect(result.recordCount).toBe(count);
      expect(result.lastOffset - result.baseOffset + 1).toBe(count);
      expect(result.logAppendTime).toBe(-1);
      expect(Number(bytes.readBigInt64BE(0))).toBe(result.baseOffset);
      batches.push({ base: result.baseOffset, count, bytes });
    }
    expect(log.segmentCount).toBeGreaterThan(1);
    expect(log.logEndOffset).toBe(batches.reduce((n, b) => n + b.count, 0));
    for (let offset = 0; offset < log.logEndOffset; offset++) {
      const expected = batches.find((b) => b.base <= offset && offset < b.base + b.count)!;
      const read = log.read(offset, 1, true)!;
      expect(read.firstOffset).toBe(expected.base);
      expect(read.slice.byteLength).toBe(expected.bytes.length);
    }
    expect(log.read(log.logEndOffset, 1024, true)).toBeNull();
    // The first segment file holds exactly the first batches, byte for byte.
    log.close();
    const first = readFileSync(join(root, 'orders-0', '00000000000000000000.log'));
    let at = 0;
    for (const b of batches) {
      if (at + b.bytes.length > first.length) break;
      expect(first.subarray(at, at + b.bytes.length).equals(b.bytes)).toBe(true);
      at += b.bytes.length;
    }
    expect(at).toBe(first.length);
  });

  it('readBytes returns the stored batches byte for byte, at least one whole batch', () => {
    const log = PartitionLog.open(join(root, 'replay-0'), small(mode));
    const stored: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const bytes = recordBatch([10 + i, 11 + i], 50 + i);
      log.append(bytes, 5_000);
      stored.push(bytes);
    }
    expect(log.readBytes(0, 1)!.equals(stored[0])).toBe(true);
    expect(log.readBytes(3, 1)!.equals(stored[1])).toBe(true);
    expect(log.readBytes(0, 1 << 20)!.equals(Buffer.concat(stored))).toBe(true);
    expect(log.readBytes(log.logEndOffset, 100)).toBeNull();
    log.close();
  });

  it('reports errors with stable codes', () => {
    const log = PartitionLog.open(join(root, 'errors-0'), small(mode));
    const corrupt = recordBatch([1, 2], 10);
    corrupt[corrupt.length - 1] ^= 1;
    expect(codeOf(() => log.append(corrupt, 0))).toBe(NativeErrorCode.CORRUPT_MESSAGE);
    expect(log.logEndOffset).toBe(0);
    const tooBig = PartitionLog.open(join(root, 'errors-1'), { ...small(mode), maxMessageBytes: 100 });
    expect(codeOf(() => tooBig.append(recordBatch([1], 200), 0))).toBe(NativeErrorCode.MESSAGE_TOO_LARGE);
    log.append(recordBatch([1, 2, 3], 10), 0);
    expect(codeOf(() => log.read(4, 100, true))).toBe(NativeErrorCode.OFFSET_OUT_OF_RANGE);
    expect(codeOf(() => log.read(0.5, 100, true))).toBe(NativeErrorCode.INVALID_ARGUMENT);
    expect(codeOf(() => PartitionLog.open(join(root, 'errors-2'), { segmentBytes: 1 }))).toBe(NativeErrorCode.INVALID_CONFIG);
    log.close();
    expect(codeOf(() => log.append(recordBatch([1], 1), 0))).toBe(NativeErrorCode.LOG_CLOSED);
  });

  it('reopens after a clean close and after a crash', async () => {
    const dir = join(root, 'reopen-0');
    const log = PartitionLog.open(dir, small(mode));
    for (let i = 0; i < 30; i++) log.append(recordBatch([i, i + 1], 200), 0);
    const end = log.logEndOffset;
    await log.flush();
    expect(log.recoveryPoint).toBe(end);
    log.close();
    const reopened = PartitionLog.open(dir, small(mode), { cleanShutdown: true, recoveryPoint: end });
    expect(reopened.logEndOffset).toBe(end);
    expect(reopened.append(recordBatch([7], 5), 0).baseOffset).toBe(end);
    // No close: the next open is unclean and recovers to the same end.
    const recovered = PartitionLog.open(dir, small(mode), { recoveryPoint: 0 });
    expect(recovered.logEndOffset).toBe(end + 1);
    expect(recovered.read(end, 1024, true)!.firstOffset).toBe(end);
    recovered.close();
  });

  it('appends, reads and flushes again while a flush is still running', async () => {
    // The fdatasync runs on the libuv pool; the log stays usable meanwhile (the broker appends
    // during the group-commit fsync and the background flush after a roll).
    const log = PartitionLog.open(join(root, 'flush-overlap-0'), small(mode));
    log.append(recordBatch([1, 2], 100), 0);
    const first = log.flush();
    const during = log.append(recordBatch([3], 100), 0);
    expect(during.baseOffset).toBe(2);
    expect(log.read(2, 1024, true)!.firstOffset).toBe(2);
    const second = log.flush();
    await Promise.all([first, second]);
    expect(log.recoveryPoint).toBe(3);
    log.close();
  });

  it('answers a retried idempotent batch with its original offsets and refuses sequence errors', () => {
    const log = PartitionLog.open(join(root, 'idempotent-0'), small(mode));
    const first = log.append(producerBatch(5, 0, 0, 3), Date.now());
    const second = log.append(producerBatch(5, 0, 3, 2), Date.now());
    expect([first.duplicate, second.duplicate]).toEqual([false, false]);
    const retry = log.append(producerBatch(5, 0, 0, 3), Date.now());
    expect(retry).toMatchObject({ duplicate: true, baseOffset: first.baseOffset, lastOffset: first.lastOffset, recordCount: 3 });
    expect(log.logEndOffset).toBe(5);
    expect(codeOf(() => log.append(producerBatch(5, 0, 9, 1), Date.now()))).toBe(NativeErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    log.append(producerBatch(5, 1, 0, 1), Date.now());
    expect(codeOf(() => log.append(producerBatch(5, 0, 5, 1), Date.now()))).toBe(NativeErrorCode.INVALID_PRODUCER_EPOCH);
    expect(codeOf(() => log.append(producerBatch(5, 1, -1, 1), Date.now()))).toBe(NativeErrorCode.INVALID_RECORD);
    expect(log.logEndOffset).toBe(6);
    log.close();
  });

  it('keeps producer state across a clean close and an unclean stop', () => {
    const dir = join(root, 'idempotent-1');
    const log = PartitionLog.open(dir, small(mode));
    for (let i = 0; i < 10; i++) log.append(producerBatch(5, 0, i * 2, 2), Date.now());
    const end = log.logEndOffset;
    log.close();
    expect(readdirSync(dir)).toContain(`${String(end).padStart(20, '0')}.snapshot`);
    const reopened = PartitionLog.open(dir, small(mode), { cleanShutdown: true, recoveryPoint: end });
    expect(reopened.append(producerBatch(5, 0, 18, 2), Date.now())).toMatchObject({ duplicate: true, baseOffset: 18 });
    reopened.append(producerBatch(5, 0, 20, 1), Date.now());
    // No close: the next open rebuilds the state from the batches after the snapshot.
    const recovered = PartitionLog.open(dir, small(mode), { recoveryPoint: end });
    expect(recovered.append(producerBatch(5, 0, 20, 1), Date.now())).toMatchObject({ duplicate: true, baseOffset: end });
    expect(codeOf(() => recovered.append(producerBatch(5, 0, 22, 1), Date.now()))).toBe(NativeErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(recovered.append(producerBatch(5, 0, 21, 1), Date.now()).baseOffset).toBe(end + 1);
    recovered.close();
  });

  it('takes producer.id.expiration.ms as producerIdExpirationMs', () => {
    expect(codeOf(() => PartitionLog.open(join(root, 'expiry-0'), { ...small(mode), producerIdExpirationMs: 0 }))).toBe(NativeErrorCode.INVALID_CONFIG);
    const log = PartitionLog.open(join(root, 'expiry-1'), { ...small(mode), producerIdExpirationMs: 1_000 });
    log.append(producerBatch(5, 0, 0, 1), Date.now());
    log.enforceRetention(Date.now() + 2_000);
    // The state expired: any sequence is accepted again (Kafka's KIP-360 rule).
    expect(log.append(producerBatch(5, 0, 77, 1), Date.now()).duplicate).toBe(false);
    log.close();
  });

  it('answers timestamp lookups, retention and DeleteRecords', () => {
    const log = PartitionLog.open(join(root, 'time-0'), { ...small(mode), segmentBytes: 2048 });
    for (let i = 0; i < 40; i++) log.append(recordBatch([i * 100, i * 100 + 50], 150), 0);
    expect(log.offsetForTimestamp(1_025)).toEqual({ timestamp: 1_050, offset: 21 });
    expect(log.offsetForTimestamp(1_000)).toEqual({ timestamp: 1_000, offset: 20 });
    expect(log.offsetForTimestamp(1_000_000)).toBeNull();
    expect(log.maxTimestamp()).toEqual({ timestamp: 3_950, offset: 79 });
    const segments = log.segmentCount;
    expect(log.deleteRecordsBefore(30)).toBe(30);
    expect(log.logStartOffset).toBe(30);
    expect(log.segmentCount).toBeLessThan(segments);
    expect(codeOf(() => log.read(29, 100, true))).toBe(NativeErrorCode.OFFSET_OUT_OF_RANGE);
    log.updateConfig({ retentionBytes: 0 });
    expect(log.enforceRetention(0)).toBeGreaterThan(0);
    expect(log.logStartOffset).toBe(log.logEndOffset);
    expect(log.sizeBytes).toBe(0);
    log.truncateTo(0);
    expect(log.logEndOffset).toBe(0);
    log.delete();
  });
});

it('rejects a failed flush with a coded error', async () => {
  const dir = join(root, 'gone-0');
  const log = PartitionLog.open(dir, { appendMode: 'pwrite' });
  log.append(recordBatch([1], 10), 0);
  rmSync(dir, { recursive: true });
  await expect(log.flush()).rejects.toMatchObject({ code: NativeErrorCode.KAFKA_STORAGE_ERROR });
  // close() flushes too, fails the same way, and leaves the log closed all the same.
  expect(codeOf(() => log.close())).toBe(NativeErrorCode.KAFKA_STORAGE_ERROR);
  await expect(log.flush()).rejects.toMatchObject({ code: NativeErrorCode.LOG_CLOSED });
});

it('holds a log dir lock exclusively until released', () => {
  const first = lockLogDir(root);
  expect(readdirSync(root)).toContain('.lock');
  expect(codeOf(() => lockLogDir(root))).toBe(NativeErrorCode.LOG_DIR_LOCKED);
  first.release();
  first.release();
  const second = lockLogDir(root);
  second.release();
});

it('reads and writes the log-dir checkpoints and the clean shutdown marker', () => {
  const entries = [
    { topic: 'orders', partition: 0, offset: 1234 },
    { topic: 'orders', partition: 1, offset: 99 },
  ];
  expect(readRecoveryPointCheckpoint(root)).toEqual([]);
  writeRecoveryPointCheckpoint(root, entries);
  expect(readFileSync(join(root, 'recovery-point-offset-checkpoint'), 'utf8')).toBe('0\n2\norders 0 1234\norders 1 99\n');
  expect(readRecoveryPointCheckpoint(root)).toEqual(entries);
  writeLogStartOffsetCheckpoint(root, entries.slice(1));
  expect(readLogStartOffsetCheckpoint(root)).toEqual(entries.slice(1));
  expect(hasCleanShutdownMarker(root)).toBe(false);
  markCleanShutdown(root);
  expect(hasCleanShutdownMarker(root)).toBe(true);
  clearCleanShutdown(root);
  expect(hasCleanShutdownMarker(root)).toBe(false);
});

it('exports the same error codes the Rust enum has', () => {
  expect(Object.values(NativeErrorCode).sort()).toEqual([...binding.nativeErrorCodes()].sort());
});

describe.each(['mmap', 'pwrite'] as const)('a Fetch slice of a log truncated before it is sent (%s)', (mode) => {
  it('fails the send and its connection instead of writing a short frame, and is counted', async () => {
    const log = PartitionLog.open(join(root, 'orders-0'), { ...small(mode), segmentBytes: 1 << 20 });
    for (let i = 0; i < 8; i++) log.append(recordBatch([1_000 + i], 500), 5_000);
    const read = log.read(0, 1 << 20, true)!;
    const framed = Buffer.alloc(4);
    framed.writeInt32BE(read.slice.byteLength); // the size prefix, computed when the response is built
    log.truncateTo(4); // a follower truncating to its leader before the response is written
    const listener = createServer().listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const address = listener.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    const accepted = once(listener, 'connection') as Promise<[Socket]>;
    const client = connect(address.port, '127.0.0.1');
    const [server] = await accepted;
    const writer = new ConnectionWriter({ mode: 'sendfile', onEvents() {} });
    try {
      const conn = writer.register(server);
      expect(() => writer.send(conn, [framed, read.slice], 1)).toThrow(expect.objectContaining({ code: 'TRANSFER_IO' }));
      expect(() => writer.send(conn, [framed], 2)).toThrow(expect.objectContaining({ code: 'CONNECTION_CLOSED' }));
      expect(writer.stats()).toMatchObject({ errors: 1, truncatedRanges: 1 });
      writer.unregister(conn);
    } finally {
      writer.close();
      server.destroy();
      client.destroy();
      listener.close();
      log.close();
    }
  });
});

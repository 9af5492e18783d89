// PartitionLog.clean through the addon: the job runs off the JS thread while the log stays
// usable, the latest record per key survives at its offset, stats and the first dirty offset
// come back, keyless appends to a compacted log are refused, and the cleaner checkpoint file
// round-trips.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NativeErrorCode, isNativeError } from './errors.ts';
import { PartitionLog, readCleanerOffsetCheckpoint, writeCleanerOffsetCheckpoint, type LogConfig } from './log.ts';

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

function bytesField(value: string | null): number[] {
  if (value === null) return varint(-1);
  const b = Buffer.from(value);
  return [...varint(b.length), ...b];
}

/** One uncompressed batch of (key, value) records; null is a null key or value. */
function keyedBatch(records: Array<[string | null, string | null]>, timestamp: number): Buffer {
  const body: number[] = [];
  records.forEach(([key, value], i) => {
    const record = [0, ...varint(i), ...varint(i), ...bytesField(key), ...bytesField(value), ...varint(0)];
    body.push(...varint(record.length), ...record);
  });
  const batch = Buffer.alloc(61 + body.length);
  batch.writeBigInt64BE(0n, 0);
  batch.writeInt32BE(49 + body.length, 8);
  batch.writeInt32BE(-1, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(0, 21);
  batch.writeInt32BE(records.length - 1, 23);
  batch.writeBigInt64BE(BigInt(timestamp), 27);
  batch.writeBigInt64BE(BigInt(timestamp + records.length - 1), 35);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt16BE(-1, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(records.length, 57);
  Buffer.from(body).copy(batch, 61);
  batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

function readVarint(bytes: Buffer, at: number): [number, number] {
  let raw = 0;
  let shift = 1;
  for (let i = 0; ; i++) {
    const b = bytes[at + i];
    raw += (b & 0x7f) * shift;
    shift *= 128;
    if ((b & 0x80) === 0) return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, i + 1];
  }
}

/** Every (offset, key, value) the log serves from its start (uncompressed batches only). */
function contents(log: PartitionLog): Array<[number, string | null, string | null]> {
  const out: Array<[number, string | null, string | null]> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const bytes = log.readBytes(offset, 1 << 20);
    if (bytes === null) break;
    let pos = 0;
    while (pos < bytes.length) {
      const base = Number(bytes.readBigInt64BE(pos));
      const size = 12 + bytes.readInt32BE(pos + 8);
      const count = bytes.readInt32BE(pos + 57);
      let at = pos + 61;
      for (let i = 0; i < count; i++) {
        const [len, n] = readVarint(bytes, at);
        let p = at + n + 1;
        p += readVarint(bytes, p)[1];
        const [delta, d] = readVarint(bytes, p);
        p += d;
        const fields: Array<string | null> = [];
        for (let f = 0; f < 2; f++) {
          const [flen, fn] = readVarint(bytes, p);
          p += fn;
          fields.push(flen < 0 ? null : bytes.subarray(p, p + flen).toString());
          p += Math.max(flen, 0);
        }
        if (base + delta >= offset) out.push([base + delta, fields[0], fields[1]]);
        at += n + len;
      }
      offset = base + bytes.readInt32BE(pos + 23) + 1;
      pos += size;
    }
  }
  return out;
}

const COMPACTED: LogConfig = {
  segmentBytes: 1024,
  cleanupPolicy: 'compact',
  minCleanableDirtyRatio: 0.01,
  deleteRetentionMs: 1000,
  appendMode: 'pwrite',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-clean-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('PartitionLog.clean', () => {
  it('keeps the latest record per key at its offset, off the JS thread', async () => {
    const log = PartitionLog.open(join(dir, 't-0'), COMPACTED);
    for (let i = 0; i < 200; i++) log.append(keyedBatch([[`k${i % 5}`, `v${i}`]], 1000 + i), 1000 + i);
    const before = contents(log);
    const end = log.logEndOffset;
    const size = log.sizeBytes;
    expect(log.segmentCount).toBeGreaterThan(5);

    const cleaning = log.clean(5000, { dedupeBufferBytes: 1 << 20 });
    // The log keeps serving while the job runs.
    log.append(keyedBatch([['k0', 'during']], 6000), 6000);
    const stats = await cleaning;
    expect(stats).not.toBeNull();
    expect(stats!.firstDirtyOffset).toBe(0);
    expect(stats!.recordsKept).toBeLessThan(stats!.recordsRead);
    expect(log.firstDirtyOffset).toBe(stats!.endOffset);
    expect(log.sizeBytes).toBeLessThan(size);
    expect(log.logEndOffset).toBe(end + 1);

    const after = contents(log);
    const byOffset = new Map(before.map((r) => [r[0], r]));
    for (const r of after.filter((r) => r[0] < end)) expect(byOffset.get(r[0])).toEqual(r);
    // Below the cleaned end, each key appears once: its latest record there.
    const cleaned = after.filter((r) => r[0] < stats!.endOffset);
    expect(new Set(cleaned.map((r) => r[1])).size).toBe(cleaned.length);
    for (const [offset, key] of cleaned) {
      const latest = Math.max(...before.filter((r) => r[1] === key && r[0] < stats!.endOffset).map((r) => r[0]));
      expect(offset).toBe(latest);
    }
    expect(await log.clean(5000)).toBeNull();
    log.close();
  });

  it('reopens with the checkpointed first dirty offset', async () => {
    const path = join(dir, 't-0');
    let log = PartitionLog.open(path, COMPACTED);
    for (let i = 0; i < 50; i++) log.append(keyedBatch([[`k${i % 3}`, 'x'.repeat(50)]], i), i);
    const stats = await log.clean(100);
    const firstDirty = log.firstDirtyOffset;
    expect(firstDirty).toBe(stats!.endOffset);
    writeCleanerOffsetCheckpoint(dir, [{ topic: 't', partition: 0, offset: firstDirty }]);
    log.close();
    expect(readCleanerOffsetCheckpoint(dir)).toEqual([{ topic: 't', partition: 0, offset: firstDirty }]);
    log = PartitionLog.open(path, COMPACTED, { cleanShutdown: true, firstDirtyOffset: firstDirty });
    expect(log.firstDirtyOffset).toBe(firstDirty);
    expect(await log.clean(100)).toBeNull();
    log.close();
  });

  it('refuses records without a key in a compacted log, and is a no-op for a deleting one', async () => {
    const log = PartitionLog.open(join(dir, 't-0'), COMPACTED);
    try {
      log.append(
        keyedBatch(
          [
            ['k', 'v'],
            [null, 'v'],
          ],
          0,
        ),
        0,
      );
      expect.unreachable();
    } catch (err) {
      expect(isNativeError(err) && err.code).toBe(NativeErrorCode.INVALID_RECORD);
    }
    log.updateConfig({ cleanupPolicy: 'delete' });
    log.append(keyedBatch([[null, 'v']], 0), 0);
    log.roll(0);
    expect(await log.clean(0)).toBeNull();
    log.close();
  });

  it('resolves to null when the log closes under a running clean', async () => {
    const log = PartitionLog.open(join(dir, 't-0'), COMPACTED);
    for (let i = 0; i < 100; i++) log.append(keyedBatch([[`k${i % 4}`, 'y'.repeat(40)]], i), i);
    const cleaning = log.clean(1000);
    log.close();
    const outcome = await cleaning.catch((err: unknown) => err);
    // Either the job saw the abort (null) or it had finished and the closed log refused it.
    if (outcome !== null) expect(isNativeError(outcome) && outcome.code).toBe(NativeErrorCode.LOG_CLOSED);
  });
});

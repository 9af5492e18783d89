// The transaction surface of PartitionLog (issue 14) through the real addon: transactional
// appends, appendTxnMarker, firstUnstableOffset, abortedTransactions, ongoingTransactions,
// producers, the fences and their error codes, and the state and .txnindex after a clean close,
// an unclean stop and a truncation.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NativeErrorCode, isNativeError } from './errors.ts';
import { PartitionLog, type AppendMode } from './log.ts';

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

/**
 * One uncompressed batch of `count` records (1-byte keys `key`, `key + 1`, …; 10-byte value;
 * stamped now) from `producerId` at `epoch`, first sequence `sequence`, with attribute bits
 * `attributes` (0x10 transactional, 0x20 control).
 */
function batch(producerId: number, epoch: number, sequence: number, count: number, attributes: number, key = 0x61): Buffer {
  const records: number[] = [];
  for (let i = 0; i < count; i++) {
    // attributes 0, timestampDelta 0, offsetDelta i, key (1 byte), value (10 bytes), 0 headers
    const body = [0, 0, i * 2, 2, key + i, 20, ...Array.from({ length: 10 }, (_, j) => j), 0];
    records.push(body.length * 2, ...body);
  }
  const now = BigInt(Date.now());
  const out = Buffer.alloc(61 + records.length);
  out.writeInt32BE(49 + records.length, 8);
  out.writeInt32BE(-1, 12);
  out.writeInt8(2, 16);
  out.writeInt16BE(attributes, 21);
  out.writeInt32BE(count - 1, 23);
  out.writeBigInt64BE(now, 27);
  out.writeBigInt64BE(now, 35);
  out.writeBigInt64BE(BigInt(producerId), 43);
  out.writeInt16BE(epoch, 51);
  out.writeInt32BE(sequence, 53);
  out.writeInt32BE(count, 57);
  Buffer.from(records).copy(out, 61);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}

const txnBatch = (producerId: number, sequence: number, count: number, epoch = 0, key = 0x61) => batch(producerId, epoch, sequence, count, 0x10, key);

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
  root = mkdtempSync(join(tmpdir(), 'sluice-txn-test-'));
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

/** p1 [0,3) p2 [3,5) p1 [5,6), ABORT(p1)@6, COMMIT(p2)@7. */
function interleaved(log: PartitionLog): void {
  expect(log.append(txnBatch(1, 0, 3), Date.now()).baseOffset).toBe(0);
  expect(log.append(txnBatch(2, 0, 2), Date.now()).baseOffset).toBe(3);
  expect(log.append(txnBatch(1, 3, 1), Date.now()).baseOffset).toBe(5);
  expect(log.firstUnstableOffset).toBe(0);
  expect(log.appendTxnMarker(1, 0, 0, false, Date.now())).toMatchObject({ baseOffset: 6, lastOffset: 6, recordCount: 1 });
  expect(log.firstUnstableOffset).toBe(3);
  expect(log.appendTxnMarker(2, 0, 0, true, Date.now()).baseOffset).toBe(7);
  expect(log.firstUnstableOffset).toBe(-1);
}

describe.each(['mmap', 'pwrite'] as const)('PartitionLog transactions (%s)', (mode) => {
  it('tracks open transactions, writes markers and answers the aborted ones', () => {
    const dir = join(root, 'txn-0');
    const log = PartitionLog.open(dir, small(mode));
    interleaved(log);
    expect(log.abortedTransactions(0, 8)).toEqual([{ producerId: 1, firstOffset: 0 }]);
    expect(log.abortedTransactions(7, 8)).toEqual([]);
    // The .txnindex entry, Kafka's 34 bytes: version 0, producer 1, first 0, last 6, LSO 3.
    const entry = readFileSync(join(dir, `${'0'.padStart(20, '0')}.txnindex`));
    expect(entry.length).toBe(34);
    expect(entry.readInt16BE(0)).toBe(0);
    expect([2, 10, 18, 26].map((at) => Number(entry.readBigInt64BE(at)))).toEqual([1, 0, 6, 3]);
    // The marker batch as stored: 78 bytes, attributes 0x30, its partition leader epoch.
    log.append(txnBatch(3, 0, 1, 4), Date.now());
    const marker = log.appendTxnMarker(3, 4, 2, true, Date.now(), 9);
    const bytes = log.readBytes(marker.baseOffset, 1 << 20);
    expect(bytes?.length).toBe(78);
    expect(bytes?.readInt16BE(21)).toBe(0x30);
    expect(bytes?.readInt32BE(12)).toBe(9);
    log.append(txnBatch(4, 0, 2), Date.now());
    expect(log.ongoingTransactions()).toEqual([{ producerId: 4, producerEpoch: 0, firstOffset: 10, lastTimestamp: expect.any(Number) }]);
    const producers = log.producers();
    expect(producers.map((p) => p.producerId)).toEqual([1, 2, 3, 4]);
    // The marker kept its epoch (4): the batches and their sequence stay.
    expect(producers[2]).toMatchObject({ producerEpoch: 4, coordinatorEpoch: 2, currentTxnStartOffset: -1, lastSequence: 0 });
    expect(producers[3]).toMatchObject({ producerEpoch: 0, coordinatorEpoch: -1, currentTxnStartOffset: 10, lastSequence: 1 });
    log.close();
  });

  it('refuses control batches, fenced epochs and plain writes inside a transaction', () => {
    const log = PartitionLog.open(join(root, 'txn-1'), small(mode));
    expect(codeOf(() => log.append(batch(1, 0, 0, 1, 0x30), Date.now()))).toBe(NativeErrorCode.INVALID_RECORD);
    expect(codeOf(() => log.append(batch(-1, -1, -1, 1, 0x10), Date.now()))).toBe(NativeErrorCode.INVALID_RECORD);
    log.append(txnBatch(1, 0, 1, 2), Date.now());
    expect(codeOf(() => log.append(batch(1, 2, 1, 1, 0), Date.now()))).toBe(NativeErrorCode.INVALID_TXN_STATE);
    expect(codeOf(() => log.appendTxnMarker(1, 1, 0, true, Date.now()))).toBe(NativeErrorCode.INVALID_PRODUCER_EPOCH);
    log.appendTxnMarker(1, 2, 5, false, Date.now());
    expect(codeOf(() => log.appendTxnMarker(1, 2, 4, false, Date.now()))).toBe(NativeErrorCode.TRANSACTION_COORDINATOR_FENCED);
    // A marker bumping the epoch fences the old epoch's batches.
    log.appendTxnMarker(1, 3, 5, false, Date.now());
    expect(codeOf(() => log.append(txnBatch(1, 1, 1, 2), Date.now()))).toBe(NativeErrorCode.INVALID_PRODUCER_EPOCH);
    expect(codeOf(() => log.appendTxnMarker(1, 70_000, 0, true, Date.now()))).toBe(NativeErrorCode.INVALID_ARGUMENT);
    // A marker for a producer without a transaction here is written.
    const end = log.logEndOffset;
    expect(log.appendTxnMarker(42, 0, 0, false, Date.now()).baseOffset).toBe(end);
    expect(log.abortedTransactions(0, end + 1)).toEqual([{ producerId: 1, firstOffset: 0 }]);
    log.close();
  });

  it('keeps transactions and aborted ones across close, an unclean stop and truncation', () => {
    const dir = join(root, 'txn-2');
    const log = PartitionLog.open(dir, small(mode));
    interleaved(log);
    log.append(txnBatch(3, 0, 2), Date.now()); // open at 8
    log.close();
    const reopened = PartitionLog.open(dir, small(mode), { cleanShutdown: true });
    expect(reopened.firstUnstableOffset).toBe(8);
    reopened.appendTxnMarker(3, 0, 0, false, Date.now()); // 10
    // No close: recovery from offset 0 replays the batches and rewrites the index.
    const recovered = PartitionLog.open(dir, small(mode), { recoveryPoint: 0 });
    expect(recovered.firstUnstableOffset).toBe(-1);
    expect(recovered.abortedTransactions(0, 11)).toEqual([
      { producerId: 1, firstOffset: 0 },
      { producerId: 3, firstOffset: 8 },
    ]);
    recovered.truncateTo(10);
    expect(recovered.abortedTransactions(0, 11)).toEqual([{ producerId: 1, firstOffset: 0 }]);
    expect(recovered.firstUnstableOffset).toBe(8);
    recovered.close();
  });

  it('compaction drops aborted transactions and keeps what read_committed needs', async () => {
    const log = PartitionLog.open(join(root, 'txn-3'), { ...small(mode), cleanupPolicy: 'compact', minCleanableDirtyRatio: 0 });
    log.append(batch(-1, -1, -1, 1, 0, 0x61), Date.now()); // 0: a (plain)
    log.append(txnBatch(1, 0, 1, 0, 0x61), Date.now()); // 1: a (aborted)
    log.appendTxnMarker(1, 0, 0, false, Date.now()); // 2
    log.append(txnBatch(1, 1, 1, 0, 0x62), Date.now()); // 3: b (committed)
    log.appendTxnMarker(1, 0, 0, true, Date.now()); // 4
    log.roll(Date.now());
    const stats = await log.clean(Date.now());
    expect(stats).toMatchObject({ abortedBatchesRemoved: 1, markersRemoved: 0 });
    // The plain a survives: the aborted a never shadowed it.
    const first = log.read(0, 1 << 20, true);
    expect(first?.firstOffset).toBe(0);
    expect(log.abortedTransactions(0, 5)).toEqual([{ producerId: 1, firstOffset: 1 }]);
    log.close();
  });
});

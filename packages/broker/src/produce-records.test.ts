import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { produceRecords } from './produce-records.ts';

const batch = (n = 2) => buildRecordBatch({ records: Array.from({ length: n }, (_, i) => ({ key: null, value: `v${i}` })) });
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));
const errorOf = (records: Uint8Array | null) => {
  const r = produceRecords(records);
  return 'errorCode' in r ? r.errorCode : 0;
};

describe("Kafka's Produce v3+ record set rules", () => {
  it('passes one complete batch through untouched (same bytes, no copy)', () => {
    const one = batch();
    const r = produceRecords(one);
    expect('batch' in r && r.batch).toBe(one);
  });

  it('wants at least one complete batch: INVALID_RECORD', () => {
    expect(errorOf(null)).toBe(ErrorCode.INVALID_RECORD);
    expect(errorOf(new Uint8Array(0))).toBe(ErrorCode.INVALID_RECORD);
    expect(errorOf(batch().subarray(0, 11))).toBe(ErrorCode.INVALID_RECORD);
    const one = batch();
    expect(errorOf(one.subarray(0, one.length - 1))).toBe(ErrorCode.INVALID_RECORD); // length says more than there is
  });

  it('a batchLength below the smallest record overhead is CORRUPT_MESSAGE', () => {
    const lying = Buffer.from(batch());
    lying.writeInt32BE(13, 8);
    expect(errorOf(lying)).toBe(ErrorCode.CORRUPT_MESSAGE);
    lying.writeInt32BE(-1, 8);
    expect(errorOf(lying)).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('magic other than 2 is INVALID_RECORD', () => {
    const old = Buffer.from(batch());
    old[16] = 1;
    expect(errorOf(old)).toBe(ErrorCode.INVALID_RECORD);
  });

  it('exactly one batch per partition: a second complete one is INVALID_RECORD', () => {
    expect(errorOf(concat(batch(), batch()))).toBe(ErrorCode.INVALID_RECORD);
    const second = Buffer.from(batch());
    second.writeInt32BE(5, 8);
    expect(errorOf(concat(batch(), second))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });

  it('bytes after the batch that are no complete batch are dropped, as Kafka trims them', () => {
    const one = batch();
    for (const tail of [Buffer.from([1, 2, 3]), batch().subarray(0, 30)]) {
      const r = produceRecords(concat(one, tail));
      expect('batch' in r).toBe(true);
      if ('batch' in r) expect(Buffer.from(r.batch).equals(Buffer.from(one))).toBe(true);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { buildRecordBatch } from '@sluice/protocol';
import { decodePartitionRecords } from './fetcher.ts';
import { concat } from './testing/bytes.ts';

const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));

function batch(baseOffset: number, values: string[], isControl = false): Uint8Array {
  return buildRecordBatch({ baseOffset, isControl, records: values.map((v) => ({ key: null, value: v, timestamp: 1000 })) });
}

describe('decodePartitionRecords', () => {
  it('drops records before the position when the first batch starts earlier', () => {
    const { records, nextOffset } = decodePartitionRecords('t', 0, 11, concat(batch(10, ['a', 'b', 'c']), batch(13, ['d'])));
    expect(records.map((r) => [r.offset, text(r.value)])).toEqual([
      [11, 'b'],
      [12, 'c'],
      [13, 'd'],
    ]);
    expect(nextOffset).toBe(14);
    expect(records[0]).toMatchObject({ topic: 't', partition: 0, timestamp: 1000, timestampType: 'CreateTime' });
  });

  it('stops before a batch cut short by the size limit; the next fetch starts there', () => {
    const full = batch(0, ['a', 'b']);
    const cut = batch(2, ['c', 'd', 'e']);
    const { records, nextOffset } = decodePartitionRecords('t', 0, 0, concat(full, cut.subarray(0, cut.length - 5)));
    expect(records.map((r) => r.offset)).toEqual([0, 1]);
    expect(nextOffset).toBe(2);
  });

  it('passes over control batches without yielding their records', () => {
    const marker = batch(3, ['\u0000\u0000\u0000\u0000'], true);
    const { records, nextOffset } = decodePartitionRecords('t', 0, 0, concat(batch(0, ['a', 'b', 'c']), marker, batch(4, ['d'])));
    expect(records.map((r) => r.offset)).toEqual([0, 1, 2, 4]);
    expect(nextOffset).toBe(5);
  });

  it('returns the position unchanged for an empty or null record set', () => {
    expect(decodePartitionRecords('t', 0, 7, null)).toEqual({ records: [], nextOffset: 7 });
    expect(decodePartitionRecords('t', 0, 7, new Uint8Array(0))).toEqual({ records: [], nextOffset: 7 });
  });
});

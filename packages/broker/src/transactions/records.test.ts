// __transaction_state records: Kafka's TransactionLogKey / TransactionLogValue bytes laid out by
// hand from the schema, round trips, and the damaged records the loader must refuse.
import { describe, expect, test } from 'vitest';
import {
  decodeTransactionLogKey,
  decodeTransactionLogValue,
  encodeTransactionLogKey,
  encodeTransactionLogValue,
  TransactionRecordError,
  type TransactionLogValue,
} from './records.ts';
import { TRANSACTION_STATUS } from './state.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const int64 = (v: number): string => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');

const ongoing: TransactionLogValue = {
  producerId: 4000,
  previousProducerId: -1,
  nextProducerId: -1,
  producerEpoch: 3,
  transactionTimeoutMs: 60_000,
  transactionStatus: TRANSACTION_STATUS.Ongoing,
  transactionPartitions: [
    { topic: 'orders', partitionIds: [0, 2] },
    { topic: '__consumer_offsets', partitionIds: [17] },
  ],
  transactionLastUpdateTimestampMs: 1_700_000_000_500,
  transactionStartTimestampMs: 1_700_000_000_000,
  clientTransactionVersion: 0,
};

describe('TransactionLogKey', () => {
  test('v0: int16 version 0, then the transactional id as a classic string', () => {
    expect(hex(encodeTransactionLogKey('tx-1'))).toBe('0000' + '0004' + Buffer.from('tx-1').toString('hex'));
    expect(decodeTransactionLogKey(encodeTransactionLogKey('tx-ü'))).toEqual({ kind: 'transaction', transactionalId: 'tx-ü' });
  });

  test('a key of another version is reported, not misread', () => {
    expect(decodeTransactionLogKey(bytes('0001 0004 74782d31'))).toEqual({ kind: 'unknown', version: 1 });
  });

  test.each([
    ['truncated', '0000 0004 7478'],
    ['trailing bytes', '0000 0001 61 00'],
    ['not UTF-8', '0000 0001 ff'],
    ['null id', '0000 ffff'],
  ])('%s is a TransactionRecordError', (_what, h) => {
    expect(() => decodeTransactionLogKey(bytes(h))).toThrow(TransactionRecordError);
  });
});

describe('TransactionLogValue', () => {
  test('v1 (flexible) Ongoing with two topics, defaults not written as tags', () => {
    const expected =
      '0001' + // version 1
      int64(4000) +
      '0003' + // epoch
      '0000ea60' + // timeout 60000
      '01' + // Ongoing
      '03' + // 2 partition entries (compact: n + 1)
      '07' +
      Buffer.from('orders').toString('hex') +
      '03' +
      '00000000' +
      '00000002' +
      '00' +
      '13' +
      Buffer.from('__consumer_offsets').toString('hex') +
      '02' +
      '00000011' +
      '00' +
      int64(1_700_000_000_500) +
      int64(1_700_000_000_000) +
      '00'; // no tagged fields: previous/next producer id -1, client transaction version 0
    expect(hex(encodeTransactionLogValue(ongoing, 1))).toBe(expected);
    expect(decodeTransactionLogValue(bytes(expected))).toEqual({ version: 1, value: ongoing });
  });

  test('v1 tagged fields: previous producer id (0), next producer id (1), client transaction version (2)', () => {
    const value: TransactionLogValue = {
      ...ongoing,
      transactionStatus: TRANSACTION_STATUS.PrepareCommit,
      previousProducerId: 3999,
      nextProducerId: 4001,
      clientTransactionVersion: 2,
      transactionPartitions: [],
    };
    const encoded = encodeTransactionLogValue(value, 1);
    const tail = hex(encoded).slice(-2 * (1 + 10 + 10 + 4));
    expect(tail).toBe('03' + '0008' + int64(3999) + '0108' + int64(4001) + '0202' + '0002');
    expect(decodeTransactionLogValue(encoded).value).toEqual(value);
  });

  test('v0 (classic) Empty: a null partition list, int16 strings and int32 counts', () => {
    const empty: TransactionLogValue = {
      ...ongoing,
      transactionStatus: TRANSACTION_STATUS.Empty,
      transactionPartitions: null,
      transactionStartTimestampMs: -1,
    };
    const expected = '0000' + int64(4000) + '0003' + '0000ea60' + '00' + 'ffffffff' + int64(1_700_000_000_500) + int64(-1);
    expect(hex(encodeTransactionLogValue(empty, 0))).toBe(expected);
    expect(decodeTransactionLogValue(bytes(expected))).toEqual({ version: 0, value: empty });
    const withTopic = encodeTransactionLogValue({ ...ongoing, transactionPartitions: [{ topic: 'a', partitionIds: [1] }] }, 0);
    expect(hex(withTopic)).toContain('00000001' + '0001' + '61' + '00000001' + '00000001');
  });

  test('v0 cannot hold the v1-only fields', () => {
    expect(() => encodeTransactionLogValue({ ...ongoing, clientTransactionVersion: 2 }, 0)).toThrow(/BUG/);
  });

  test('unknown tags are skipped; a higher version reads as v1 (KIP-915)', () => {
    const v1 = hex(encodeTransactionLogValue({ ...ongoing, previousProducerId: 7 }, 1));
    // Replace the tagged section (1 field: tag 0) with tag 0 plus an unknown tag 9.
    const withUnknown = '0002' + v1.slice(4, -2 * 11) + '02' + '0008' + int64(7) + '0903' + 'aabbcc';
    expect(decodeTransactionLogValue(bytes(withUnknown))).toEqual({ version: 2, value: { ...ongoing, previousProducerId: 7 } });
  });

  test.each([
    ['truncated', (h: string) => h.slice(0, -4)],
    ['trailing byte', (h: string) => h + '00'],
    ['a known tag of the wrong size', (h: string) => h.slice(0, -2) + '01' + '0004' + '00000001'],
    ['tags out of order', (h: string) => h.slice(0, -2) + '02' + '0108' + int64(1) + '0008' + int64(2)],
    ['a negative version', (h: string) => 'ffff' + h.slice(4)],
  ])('%s is a TransactionRecordError', (_what, damage) => {
    const h = hex(encodeTransactionLogValue(ongoing, 1));
    expect(() => decodeTransactionLogValue(bytes(damage(h)))).toThrow(TransactionRecordError);
  });

  test('an array count beyond the bytes left is refused before allocating', () => {
    const h = '0001' + int64(1) + '0000' + '00000001' + '01' + 'ffffff7f' + int64(0) + int64(0) + '00';
    expect(() => decodeTransactionLogValue(bytes(h))).toThrow(/claims/);
  });
});

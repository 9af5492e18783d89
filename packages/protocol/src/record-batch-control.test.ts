// End-transaction marker batches: the bytes Kafka's DefaultRecordBatch, ControlRecordType and
// EndTransactionMarker lay out, written here field by field; the parse back; kafkajs's own batch
// decoder as an independent reader; and the malformed markers a reader must refuse.
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import {
  buildEndTxnMarkerBatch,
  buildRecordBatch,
  CONTROL_RECORD_ABORT,
  CONTROL_RECORD_COMMIT,
  crc32c,
  decodeControlRecordKey,
  encodeControlRecordKey,
  encodeEndTxnMarkerValue,
  parseRecordBatches,
  ProtocolError,
  readEndTxnMarker,
} from './index.ts';

const require = createRequire(import.meta.url);

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('end transaction marker batch bytes', () => {
  test('Kafka’s ControlRecordType ids: ABORT 0, COMMIT 1', () => {
    expect(CONTROL_RECORD_ABORT).toBe(0);
    expect(CONTROL_RECORD_COMMIT).toBe(1);
    expect(hex(encodeControlRecordKey('ABORT'))).toBe('00000000');
    expect(hex(encodeControlRecordKey('COMMIT'))).toBe('00000001');
    expect(hex(encodeEndTxnMarkerValue(7))).toBe('000000000007');
    expect(hex(encodeEndTxnMarkerValue(-1))).toBe('0000ffffffff');
  });

  test('a COMMIT marker is the 78 bytes of Kafka’s MemoryRecords.withEndTransactionMarker', () => {
    const batch = buildEndTxnMarkerBatch({
      type: 'COMMIT',
      coordinatorEpoch: 7,
      producerId: 4000,
      producerEpoch: 3,
      timestamp: 1_700_000_000_123,
      baseOffset: 42,
      partitionLeaderEpoch: 5,
    });
    const ts = (1_700_000_000_123).toString(16).padStart(16, '0');
    const afterCrc =
      '0030' + // attributes: control 0x20 | transactional 0x10, no compression, CreateTime
      '00000000' + // lastOffsetDelta
      ts + // baseTimestamp
      ts + // maxTimestamp
      '0000000000000fa0' + // producerId 4000
      '0003' + // producerEpoch
      'ffffffff' + // baseSequence -1
      '00000001' + // one record
      '20' + // record length 16 (zig-zag varint)
      '00' + // record attributes
      '00' + // timestampDelta 0
      '00' + // offsetDelta 0
      '08' + // key length 4
      '00000001' + // key: version 0, type COMMIT
      '0c' + // value length 6
      '000000000007' + // value: version 0, coordinatorEpoch 7
      '00'; // no headers
    const tail = Buffer.from(afterCrc, 'hex');
    const crc = crc32c(tail).toString(16).padStart(8, '0');
    const expected =
      '000000000000002a' + // baseOffset 42
      '00000042' + // batchLength 66 = 78 - 12
      '00000005' + // partitionLeaderEpoch
      '02' + // magic
      crc +
      afterCrc;
    expect(batch.length).toBe(78);
    expect(hex(batch)).toBe(expected);
  });

  test('an ABORT marker differs only in the key type (and so the CRC)', () => {
    const options = { coordinatorEpoch: 0, producerId: 1, producerEpoch: 0, timestamp: 1000 } as const;
    const commit = buildEndTxnMarkerBatch({ ...options, type: 'COMMIT' });
    const abort = buildEndTxnMarkerBatch({ ...options, type: 'ABORT' });
    const differing = [...commit.keys()].filter((i) => commit[i] !== abort[i]);
    expect(differing.filter((i) => i < 17 || i >= 21)).toEqual([69]); // the key's type byte: 61 header + 5 record prefix + 3
    expect(abort[69]).toBe(0);
  });

  test('a marker needs a real producer id and epoch', () => {
    expect(() => buildEndTxnMarkerBatch({ type: 'COMMIT', coordinatorEpoch: 0, producerId: -1, producerEpoch: 0, timestamp: 0 })).toThrow(RangeError);
    expect(() => buildEndTxnMarkerBatch({ type: 'COMMIT', coordinatorEpoch: 0, producerId: 1, producerEpoch: -1, timestamp: 0 })).toThrow(RangeError);
    expect(() => encodeEndTxnMarkerValue(2 ** 31)).toThrow(RangeError);
  });
});

describe('parsing markers back', () => {
  test.each(['COMMIT', 'ABORT'] as const)('%s round trip', (type) => {
    const batch = buildEndTxnMarkerBatch({ type, coordinatorEpoch: 12, producerId: 9_000_000_000, producerEpoch: 32_000, timestamp: 5 });
    const [parsed] = parseRecordBatches(batch);
    expect(parsed).toMatchObject({
      isControl: true,
      transactional: true,
      producerId: 9_000_000_000,
      producerEpoch: 32_000,
      baseSequence: -1,
      compression: 'none',
    });
    expect(readEndTxnMarker(parsed)).toEqual({ type, coordinatorEpoch: 12 });
  });

  test('kafkajs’s batch decoder reads our marker as a control batch in a transaction', async () => {
    const Decoder = require('kafkajs/src/protocol/decoder');
    const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder');
    const batch = buildEndTxnMarkerBatch({
      type: 'ABORT',
      coordinatorEpoch: 3,
      producerId: 77,
      producerEpoch: 2,
      timestamp: 1_700_000_000_000,
      baseOffset: 10,
    });
    const d = await decodeBatch(new Decoder(Buffer.from(batch)));
    expect(d).toMatchObject({
      firstOffset: '10',
      inTransaction: true,
      isControlBatch: true,
      producerId: '77',
      producerEpoch: 2,
      firstSequence: -1,
      lastOffsetDelta: 0,
    });
    expect(d.records).toHaveLength(1);
    expect(d.records[0].isControlRecord).toBe(true);
    expect(hex(d.records[0].key)).toBe('00000000');
    expect(hex(d.records[0].value)).toBe('000000000003');
  });

  test('a higher marker value version is read as version 0 (its fields are a prefix)', () => {
    const value = Buffer.from('0001000000090102', 'hex');
    const batch = buildRecordBatch({
      records: [{ key: encodeControlRecordKey('COMMIT'), value }],
      producerId: 1,
      producerEpoch: 0,
      transactional: true,
      isControl: true,
    });
    expect(readEndTxnMarker(parseRecordBatches(batch)[0])).toEqual({ type: 'COMMIT', coordinatorEpoch: 9 });
  });

  test('an unknown control type is not a marker (consumers skip it)', () => {
    const batch = buildRecordBatch({ records: [{ key: Buffer.from('00000005', 'hex'), value: null }], isControl: true });
    expect(decodeControlRecordKey(parseRecordBatches(batch)[0].records[0].key)).toBe(5);
    expect(readEndTxnMarker(parseRecordBatches(batch)[0])).toBeNull();
  });

  const malformed: ReadonlyArray<readonly [string, Uint8Array]> = [
    ['not a control batch', buildRecordBatch({ records: [{ key: encodeControlRecordKey('COMMIT'), value: encodeEndTxnMarkerValue(1) }] })],
    ['a key of another version', buildRecordBatch({ records: [{ key: Buffer.from('00010001', 'hex'), value: encodeEndTxnMarkerValue(1) }], isControl: true })],
    ['a short key', buildRecordBatch({ records: [{ key: Buffer.from('0000', 'hex'), value: encodeEndTxnMarkerValue(1) }], isControl: true })],
    ['a null key', buildRecordBatch({ records: [{ key: null, value: encodeEndTxnMarkerValue(1) }], isControl: true })],
    ['a short value', buildRecordBatch({ records: [{ key: encodeControlRecordKey('ABORT'), value: Buffer.from('000000', 'hex') }], isControl: true })],
    [
      'a negative value version',
      buildRecordBatch({ records: [{ key: encodeControlRecordKey('ABORT'), value: Buffer.from('ffff00000001', 'hex') }], isControl: true }),
    ],
    [
      'two records',
      buildRecordBatch({
        records: [
          { key: encodeControlRecordKey('ABORT'), value: encodeEndTxnMarkerValue(1) },
          { key: encodeControlRecordKey('ABORT'), value: encodeEndTxnMarkerValue(1) },
        ],
        isControl: true,
      }),
    ],
  ];
  test.each(malformed)('%s is INVALID_RECORD', (_what, batch) => {
    const [parsed] = parseRecordBatches(batch);
    let error: unknown;
    try {
      readEndTxnMarker(parsed);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe('INVALID_RECORD');
  });
});

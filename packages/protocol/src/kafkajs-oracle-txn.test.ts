// kafkajs as an independent oracle for the transaction APIs it speaks (AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, each at v0-1): requests kafkajs encodes are decoded
// by us to the values kafkajs was given, and responses we encode are decoded by kafkajs's own
// per-version decoders to the values we put in. Same method as kafkajs-oracle.test.ts; kept in
// its own file so the transaction work merges without touching that one.
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { type AnyResponse, ApiKey, decodeRequest, decodeRequestHeader, type Encodable, encodeResponse, FrameReader } from './index.ts';

const require = createRequire(import.meta.url);
const kafkajs = (path: string): any => require(`kafkajs/src/protocol/${path}`);
const Long = require('kafkajs/src/utils/long');

const VERSIONS = [0, 1];

async function kafkajsDecodes(api: string, apiKey: number, version: number, body: Encodable<AnyResponse>): Promise<any> {
  const parts = encodeResponse(apiKey, version, 42, body);
  expect(parts).toHaveLength(1);
  const frame = parts[0] as Uint8Array;
  const { decode } = kafkajs(`requests/${api}/v${version}/response`);
  return decode(Buffer.from(frame.subarray(8)));
}

async function weDecode(api: string, version: number, args: unknown): Promise<any> {
  const request = kafkajs(`requests/${api}/v${version}/request`)(args);
  const encoded = await kafkajs('request')({ correlationId: 7, clientId: 'kafkajs-oracle', request });
  const reader = new FrameReader(1 << 20);
  reader.push(new Uint8Array(encoded.buffer));
  const frame = reader.next() as Uint8Array;
  expect(reader.bufferedBytes).toBe(0);
  const header = decodeRequestHeader(frame);
  expect(header).toMatchObject({ apiKey: request.apiKey, apiVersion: version, correlationId: 7, clientId: 'kafkajs-oracle' });
  return decodeRequest(header, frame);
}

describe('transaction requests kafkajs encodes, decoded by us', () => {
  test.each(VERSIONS)('AddPartitionsToTxn v%i', async (v) => {
    const body = await weDecode('addPartitionsToTxn', v, {
      transactionalId: 'tx-1',
      producerId: Long.fromNumber(12_345_678_901),
      producerEpoch: 3,
      topics: [
        { topic: 'orders', partitions: [0, 2] },
        { topic: 'audit', partitions: [7] },
      ],
    });
    expect(body).toStrictEqual({
      transactions: [],
      v3AndBelowTransactionalId: 'tx-1',
      v3AndBelowProducerId: 12_345_678_901,
      v3AndBelowProducerEpoch: 3,
      v3AndBelowTopics: [
        { name: 'orders', partitions: [0, 2] },
        { name: 'audit', partitions: [7] },
      ],
    });
  });

  test.each(VERSIONS)('AddOffsetsToTxn v%i', async (v) => {
    const body = await weDecode('addOffsetsToTxn', v, { transactionalId: 'tx-1', producerId: Long.fromNumber(4000), producerEpoch: 3, groupId: 'etl' });
    expect(body).toStrictEqual({ transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, groupId: 'etl' });
  });

  test.each(VERSIONS)('EndTxn v%i', async (v) => {
    for (const transactionResult of [true, false]) {
      const body = await weDecode('endTxn', v, { transactionalId: 'tx-1', producerId: Long.fromNumber(4000), producerEpoch: 3, transactionResult });
      expect(body).toStrictEqual({ transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, committed: transactionResult });
    }
  });

  test.each(VERSIONS)('TxnOffsetCommit v%i', async (v) => {
    const body = await weDecode('txnOffsetCommit', v, {
      transactionalId: 'tx-1',
      groupId: 'etl',
      producerId: Long.fromNumber(4000),
      producerEpoch: 3,
      topics: [{ topic: 'in', partitions: [{ partition: 1, offset: '12345678901', metadata: 'm' }] }],
    });
    expect(body).toStrictEqual({
      transactionalId: 'tx-1',
      groupId: 'etl',
      producerId: 4000,
      producerEpoch: 3,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'in', partitions: [{ partitionIndex: 1, committedOffset: 12_345_678_901, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
    });
  });
});

describe('transaction responses we encode, decoded by kafkajs', () => {
  test.each(VERSIONS)('AddPartitionsToTxn v%i', async (v) => {
    const d = await kafkajsDecodes('addPartitionsToTxn', ApiKey.AddPartitionsToTxn, v, {
      throttleTimeMs: 4,
      resultsByTopicV3AndBelow: [
        {
          name: 'orders',
          resultsByPartition: [
            { partitionIndex: 0, partitionErrorCode: 0 },
            { partitionIndex: 2, partitionErrorCode: 51 },
          ],
        },
      ],
    });
    expect(d.errors).toEqual([
      {
        topic: 'orders',
        partitionErrors: [
          { partition: 0, errorCode: 0 },
          { partition: 2, errorCode: 51 },
        ],
      },
    ]);
    expect(v === 0 ? d.throttleTime : d.clientSideThrottleTime).toBe(4);
  });

  test.each(VERSIONS)('AddOffsetsToTxn v%i', async (v) => {
    const d = await kafkajsDecodes('addOffsetsToTxn', ApiKey.AddOffsetsToTxn, v, { throttleTimeMs: 4, errorCode: 49 });
    expect(d.errorCode).toBe(49);
    expect(v === 0 ? d.throttleTime : d.clientSideThrottleTime).toBe(4);
  });

  test.each(VERSIONS)('EndTxn v%i', async (v) => {
    const d = await kafkajsDecodes('endTxn', ApiKey.EndTxn, v, { throttleTimeMs: 4, errorCode: 48 });
    expect(d.errorCode).toBe(48);
    expect(v === 0 ? d.throttleTime : d.clientSideThrottleTime).toBe(4);
  });

  test.each(VERSIONS)('TxnOffsetCommit v%i', async (v) => {
    const d = await kafkajsDecodes('txnOffsetCommit', ApiKey.TxnOffsetCommit, v, {
      throttleTimeMs: 4,
      topics: [
        {
          name: 'in',
          partitions: [
            { partitionIndex: 1, errorCode: 0 },
            { partitionIndex: 3, errorCode: 22 },
          ],
        },
      ],
    });
    expect(d.topics).toEqual([
      {
        topic: 'in',
        partitions: [
          { partition: 1, errorCode: 0 },
          { partition: 3, errorCode: 22 },
        ],
      },
    ]);
    expect(v === 0 ? d.throttleTime : d.clientSideThrottleTime).toBe(4);
  });
});

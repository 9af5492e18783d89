// Wire bytes of the transaction APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
// WriteTxnMarkers, TxnOffsetCommit, DescribeProducers, DescribeTransactions, ListTransactions) and FindCoordinator
// v5: a realistic body at the interesting versions, encoded by the codec and compared with the
// bytes the specification lays out (written field by field with a dumb builder so each can be
// checked by hand), then decoded back, absent fields taking the specification's defaults.
// The generated round trip (roundtrip.test.ts) covers every version of every field; this file
// pins the layout.
import { describe, expect, test } from 'vitest';
import { ApiKey, decodeRequest, decodeRequestHeader, decodeResponse, encodeRequest, encodeResponse, FrameReader } from '../index.ts';

class Wire {
  readonly #out: number[] = [];
  readonly flexible: boolean;

  constructor(flexible: boolean) {
    this.flexible = flexible;
  }

  int8(v: number): this {
    this.#out.push(v & 0xff);
    return this;
  }

  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }

  int32(v: number): this {
    return this.int16(v >> 16).int16(v);
  }

  int64(v: number): this {
    const u = BigInt.asUintN(64, BigInt(v));
    for (let shift = 56n; shift >= 0n; shift -= 8n) this.#out.push(Number((u >> shift) & 0xffn));
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  uvarint(v: number): this {
    while (v >= 0x80) {
      this.#out.push((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.#out.push(v);
    return this;
  }

  string(s: string | null): this {
    if (s === null) return this.flexible ? this.uvarint(0) : this.int16(-1);
    const utf8 = new TextEncoder().encode(s);
    if (this.flexible) this.uvarint(utf8.length + 1);
    else this.int16(utf8.length);
    this.#out.push(...utf8);
    return this;
  }

  count(n: number): this {
    return this.flexible ? this.uvarint(n + 1) : this.int32(n);
  }

  /** An empty tagged-field section (flexible only). */
  tags(): this {
    return this.flexible ? this.uvarint(0) : this;
  }

  get encoded(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}

interface Case {
  readonly name: string;
  readonly apiKey: number;
  readonly version: number;
  readonly flexible: boolean;
  readonly body: Record<string, unknown>;
  readonly wire: (w: Wire) => Wire;
  readonly decoded?: Record<string, unknown>;
}

function onlyFrame(bytes: Uint8Array): Uint8Array {
  const reader = new FrameReader(bytes.length);
  reader.push(bytes);
  return reader.next() as Uint8Array;
}

const requests: readonly Case[] = [
  {
    name: 'AddPartitionsToTxn v0 (client, single transaction)',
    apiKey: ApiKey.AddPartitionsToTxn,
    version: 0,
    flexible: false,
    body: {
      v3AndBelowTransactionalId: 'tx-1',
      v3AndBelowProducerId: 4000,
      v3AndBelowProducerEpoch: 3,
      v3AndBelowTopics: [{ name: 'orders', partitions: [0, 2] }],
    },
    wire: (w) => w.string('tx-1').int64(4000).int16(3).count(1).string('orders').count(2).int32(0).int32(2),
    decoded: {
      transactions: [],
      v3AndBelowTransactionalId: 'tx-1',
      v3AndBelowProducerId: 4000,
      v3AndBelowProducerEpoch: 3,
      v3AndBelowTopics: [{ name: 'orders', partitions: [0, 2] }],
    },
  },
  {
    name: 'AddPartitionsToTxn v3 (client, flexible)',
    apiKey: ApiKey.AddPartitionsToTxn,
    version: 3,
    flexible: true,
    body: {
      v3AndBelowTransactionalId: 'tx-1',
      v3AndBelowProducerId: 4000,
      v3AndBelowProducerEpoch: 3,
      v3AndBelowTopics: [{ name: 'orders', partitions: [1] }],
    },
    wire: (w) => w.string('tx-1').int64(4000).int16(3).count(1).string('orders').count(1).int32(1).tags().tags(),
    decoded: {
      transactions: [],
      v3AndBelowTransactionalId: 'tx-1',
      v3AndBelowProducerId: 4000,
      v3AndBelowProducerEpoch: 3,
      v3AndBelowTopics: [{ name: 'orders', partitions: [1] }],
    },
  },
  {
    name: 'AddPartitionsToTxn v5 (broker, batched, VerifyOnly)',
    apiKey: ApiKey.AddPartitionsToTxn,
    version: 5,
    flexible: true,
    body: {
      transactions: [
        { transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, verifyOnly: true, topics: [{ name: 'orders', partitions: [0] }] },
        { transactionalId: 'tx-2', producerId: 4001, producerEpoch: 0, verifyOnly: false, topics: [] },
      ],
    },
    wire: (w) =>
      w
        .count(2)
        .string('tx-1')
        .int64(4000)
        .int16(3)
        .bool(true)
        .count(1)
        .string('orders')
        .count(1)
        .int32(0)
        .tags()
        .tags()
        .string('tx-2')
        .int64(4001)
        .int16(0)
        .bool(false)
        .count(0)
        .tags()
        .tags(),
    decoded: {
      transactions: [
        { transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, verifyOnly: true, topics: [{ name: 'orders', partitions: [0] }] },
        { transactionalId: 'tx-2', producerId: 4001, producerEpoch: 0, verifyOnly: false, topics: [] },
      ],
      v3AndBelowTransactionalId: '',
      v3AndBelowProducerId: 0,
      v3AndBelowProducerEpoch: 0,
      v3AndBelowTopics: [],
    },
  },
  {
    name: 'AddOffsetsToTxn v0',
    apiKey: ApiKey.AddOffsetsToTxn,
    version: 0,
    flexible: false,
    body: { transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, groupId: 'etl' },
    wire: (w) => w.string('tx-1').int64(4000).int16(3).string('etl'),
  },
  {
    name: 'AddOffsetsToTxn v4',
    apiKey: ApiKey.AddOffsetsToTxn,
    version: 4,
    flexible: true,
    body: { transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, groupId: 'etl' },
    wire: (w) => w.string('tx-1').int64(4000).int16(3).string('etl').tags(),
  },
  {
    name: 'EndTxn v0',
    apiKey: ApiKey.EndTxn,
    version: 0,
    flexible: false,
    body: { transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, committed: true },
    wire: (w) => w.string('tx-1').int64(4000).int16(3).bool(true),
  },
  {
    name: 'EndTxn v5',
    apiKey: ApiKey.EndTxn,
    version: 5,
    flexible: true,
    body: { transactionalId: 'tx-1', producerId: 4000, producerEpoch: 3, committed: false },
    wire: (w) => w.string('tx-1').int64(4000).int16(3).bool(false).tags(),
  },
  {
    name: 'WriteTxnMarkers v1 (no transactionVersion)',
    apiKey: ApiKey.WriteTxnMarkers,
    version: 1,
    flexible: true,
    body: {
      markers: [{ producerId: 4000, producerEpoch: 3, transactionResult: true, topics: [{ name: 'orders', partitionIndexes: [0, 1] }], coordinatorEpoch: 7 }],
    },
    wire: (w) => w.count(1).int64(4000).int16(3).bool(true).count(1).string('orders').count(2).int32(0).int32(1).tags().int32(7).tags().tags(),
    decoded: {
      markers: [
        {
          producerId: 4000,
          producerEpoch: 3,
          transactionResult: true,
          topics: [{ name: 'orders', partitionIndexes: [0, 1] }],
          coordinatorEpoch: 7,
          transactionVersion: 0,
        },
      ],
    },
  },
  {
    name: 'WriteTxnMarkers v2',
    apiKey: ApiKey.WriteTxnMarkers,
    version: 2,
    flexible: true,
    body: { markers: [{ producerId: 4000, producerEpoch: 4, transactionResult: false, topics: [], coordinatorEpoch: 7, transactionVersion: 2 }] },
    wire: (w) => w.count(1).int64(4000).int16(4).bool(false).count(0).int32(7).int8(2).tags().tags(),
  },
  {
    name: 'TxnOffsetCommit v0',
    apiKey: ApiKey.TxnOffsetCommit,
    version: 0,
    flexible: false,
    body: {
      transactionalId: 'tx-1',
      groupId: 'etl',
      producerId: 4000,
      producerEpoch: 3,
      topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 42, committedMetadata: null }] }],
    },
    wire: (w) => w.string('tx-1').string('etl').int64(4000).int16(3).count(1).string('in').count(1).int32(0).int64(42).string(null),
    decoded: {
      transactionalId: 'tx-1',
      groupId: 'etl',
      producerId: 4000,
      producerEpoch: 3,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: null }] }],
    },
  },
  {
    name: 'TxnOffsetCommit v3 (KIP-447 member fields)',
    apiKey: ApiKey.TxnOffsetCommit,
    version: 3,
    flexible: true,
    body: {
      transactionalId: 'tx-1',
      groupId: 'etl',
      producerId: 4000,
      producerEpoch: 3,
      generationId: 5,
      memberId: 'm-1',
      groupInstanceId: null,
      topics: [{ name: 'in', partitions: [{ partitionIndex: 2, committedOffset: 42, committedLeaderEpoch: 9, committedMetadata: '' }] }],
    },
    wire: (w) =>
      w
        .string('tx-1')
        .string('etl')
        .int64(4000)
        .int16(3)
        .int32(5)
        .string('m-1')
        .string(null)
        .count(1)
        .string('in')
        .count(1)
        .int32(2)
        .int64(42)
        .int32(9)
        .string('')
        .tags()
        .tags()
        .tags(),
  },
  {
    name: 'DescribeProducers v0',
    apiKey: ApiKey.DescribeProducers,
    version: 0,
    flexible: true,
    body: { topics: [{ name: 'orders', partitionIndexes: [0, 3] }] },
    wire: (w) => w.count(1).string('orders').count(2).int32(0).int32(3).tags().tags(),
  },
  {
    name: 'DescribeTransactions v0',
    apiKey: ApiKey.DescribeTransactions,
    version: 0,
    flexible: true,
    body: { transactionalIds: ['tx-1', 'tx-2'] },
    wire: (w) => w.count(2).string('tx-1').string('tx-2').tags(),
  },
  {
    name: 'ListTransactions v0',
    apiKey: ApiKey.ListTransactions,
    version: 0,
    flexible: true,
    body: { stateFilters: ['Ongoing'], producerIdFilters: [4000] },
    wire: (w) => w.count(1).string('Ongoing').count(1).int64(4000).tags(),
    decoded: { stateFilters: ['Ongoing'], producerIdFilters: [4000], durationFilter: -1, transactionalIdPattern: null },
  },
  {
    name: 'ListTransactions v2',
    apiKey: ApiKey.ListTransactions,
    version: 2,
    flexible: true,
    body: { stateFilters: [], producerIdFilters: [], durationFilter: 60_000, transactionalIdPattern: '^etl-' },
    wire: (w) => w.count(0).count(0).int64(60_000).string('^etl-').tags(),
  },
  {
    name: 'FindCoordinator v5 (batched transaction keys)',
    apiKey: ApiKey.FindCoordinator,
    version: 5,
    flexible: true,
    body: { keyType: 1, coordinatorKeys: ['tx-1'] },
    wire: (w) => w.int8(1).count(1).string('tx-1').tags(),
    decoded: { key: '', keyType: 1, coordinatorKeys: ['tx-1'] },
  },
];

const responses: readonly Case[] = [
  {
    name: 'AddPartitionsToTxn v0',
    apiKey: ApiKey.AddPartitionsToTxn,
    version: 0,
    flexible: false,
    body: { throttleTimeMs: 0, resultsByTopicV3AndBelow: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 51 }] }] },
    wire: (w) => w.int32(0).count(1).string('orders').count(1).int32(0).int16(51),
    decoded: {
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: [],
      resultsByTopicV3AndBelow: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 51 }] }],
    },
  },
  {
    name: 'AddPartitionsToTxn v5',
    apiKey: ApiKey.AddPartitionsToTxn,
    version: 5,
    flexible: true,
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: [
        { transactionalId: 'tx-1', topicResults: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 48 }] }] },
      ],
    },
    wire: (w) => w.int32(0).int16(0).count(1).string('tx-1').count(1).string('orders').count(1).int32(0).int16(48).tags().tags().tags().tags(),
    decoded: {
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: [
        { transactionalId: 'tx-1', topicResults: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 48 }] }] },
      ],
      resultsByTopicV3AndBelow: [],
    },
  },
  {
    name: 'AddOffsetsToTxn v2',
    apiKey: ApiKey.AddOffsetsToTxn,
    version: 2,
    flexible: false,
    body: { throttleTimeMs: 5, errorCode: 90 },
    wire: (w) => w.int32(5).int16(90),
  },
  {
    name: 'EndTxn v4 (no producer id and epoch)',
    apiKey: ApiKey.EndTxn,
    version: 4,
    flexible: true,
    body: { throttleTimeMs: 0, errorCode: 51 },
    wire: (w) => w.int32(0).int16(51).tags(),
    decoded: { throttleTimeMs: 0, errorCode: 51, producerId: -1, producerEpoch: -1 },
  },
  {
    name: 'EndTxn v5 (the next transaction’s producer id and epoch)',
    apiKey: ApiKey.EndTxn,
    version: 5,
    flexible: true,
    body: { throttleTimeMs: 0, errorCode: 0, producerId: 4000, producerEpoch: 5 },
    wire: (w) => w.int32(0).int16(0).int64(4000).int16(5).tags(),
  },
  {
    name: 'WriteTxnMarkers v2',
    apiKey: ApiKey.WriteTxnMarkers,
    version: 2,
    flexible: true,
    body: { markers: [{ producerId: 4000, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] }] },
    wire: (w) => w.count(1).int64(4000).count(1).string('orders').count(1).int32(1).int16(0).tags().tags().tags().tags(),
  },
  {
    name: 'TxnOffsetCommit v1',
    apiKey: ApiKey.TxnOffsetCommit,
    version: 1,
    flexible: false,
    body: { throttleTimeMs: 0, topics: [{ name: 'in', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] },
    wire: (w) => w.int32(0).count(1).string('in').count(1).int32(0).int16(0),
  },
  {
    name: "DescribeTransactions v0 (producerEpoch is an int16: Kafka's DescribeTransactionsResponseData reads a short)",
    apiKey: ApiKey.DescribeTransactions,
    version: 0,
    flexible: true,
    body: {
      throttleTimeMs: 0,
      transactionStates: [
        {
          errorCode: 0,
          transactionalId: 'tx-1',
          transactionState: 'Ongoing',
          transactionTimeoutMs: 60_000,
          transactionStartTimeMs: 1_700_000_000_000,
          producerId: 4000,
          producerEpoch: 3,
          topicPartitions: [{ name: 'orders', partitionIndexes: [0, 1] }],
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(1)
        .int16(0)
        .string('tx-1')
        .string('Ongoing')
        .int32(60_000)
        .int64(1_700_000_000_000)
        .int64(4000)
        .int16(3)
        .count(1)
        .string('orders')
        .count(2)
        .int32(0)
        .int32(1)
        .tags()
        .tags()
        .tags(),
  },
  {
    name: 'DescribeProducers v0',
    apiKey: ApiKey.DescribeProducers,
    version: 0,
    flexible: true,
    body: {
      throttleTimeMs: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            {
              partitionIndex: 0,
              errorCode: 0,
              errorMessage: null,
              activeProducers: [
                { producerId: 4000, producerEpoch: 3, lastSequence: 9, lastTimestamp: 1_700_000_000_000, coordinatorEpoch: 0, currentTxnStartOffset: 120 },
              ],
            },
          ],
        },
      ],
    },
    wire: (w) =>
      w
        .int32(0)
        .count(1)
        .string('orders')
        .count(1)
        .int32(0)
        .int16(0)
        .string(null)
        .count(1)
        .int64(4000)
        .int32(3)
        .int32(9)
        .int64(1_700_000_000_000)
        .int32(0)
        .int64(120)
        .tags()
        .tags()
        .tags()
        .tags(),
  },
  {
    name: 'ListTransactions v1',
    apiKey: ApiKey.ListTransactions,
    version: 1,
    flexible: true,
    body: {
      throttleTimeMs: 0,
      errorCode: 0,
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: 'tx-1', producerId: 4000, transactionState: 'CompleteCommit' }],
    },
    wire: (w) => w.int32(0).int16(0).count(1).string('Bogus').count(1).string('tx-1').int64(4000).string('CompleteCommit').tags().tags(),
  },
];

describe('transaction API requests: the specification’s bytes', () => {
  test.each(requests.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const frame = onlyFrame(encodeRequest(c.apiKey, c.version, 1, 'c', c.body));
    const header = decodeRequestHeader(frame);
    expect(Buffer.from(frame.subarray(header.bodyOffset)).toString('hex')).toBe(Buffer.from(c.wire(new Wire(c.flexible)).encoded).toString('hex'));
    expect(decodeRequest(header, frame)).toStrictEqual(c.decoded ?? c.body);
  });
});

describe('transaction API responses: the specification’s bytes', () => {
  test.each(responses.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parts = encodeResponse(c.apiKey, c.version, 1, c.body);
    expect(parts).toHaveLength(1);
    const frame = onlyFrame(parts[0] as Uint8Array);
    // Response header: correlation id, then (flexible) an empty tagged-field section.
    const bodyOffset = c.flexible ? 5 : 4;
    expect(Buffer.from(frame.subarray(bodyOffset)).toString('hex')).toBe(Buffer.from(c.wire(new Wire(c.flexible)).encoded).toString('hex'));
    expect(decodeResponse(c.apiKey, c.version, frame).body).toStrictEqual(c.decoded ?? c.body);
  });
});

// The transaction handlers over the real codec and a transaction coordinator on memory seams:
// AddPartitionsToTxn (v0-3 and the batched v4+ with VerifyOnly), AddOffsetsToTxn, EndTxn,
// Describe/ListTransactions, errors per version (errorForVersion), and the produce path's
// verification of transactional batches (KIP-890 part 1).

import { ClientQuotas } from '../quotas/client-quota-manager.ts';
import { MemoryClientQuotaStore } from '../quotas/client-quota-store.ts';
import { buildRecordBatch, ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import type { BrokerContext } from '../broker-context.ts';
import { silentLogger } from '../logger.ts';
import { BrokerMetrics } from '../metrics/broker-metrics.ts';
import { callHandler } from '../testing/call-handler.ts';
import { drive, type Harness, harness } from '../testing/transaction-harness.ts';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.ts';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.ts';
import { describeTransactionsHandler } from './describe-transactions.ts';
import { endTxnHandler } from './end-txn.ts';
import { initProducerIdHandler } from './init-producer-id.ts';
import { listTransactionsHandler } from './list-transactions.ts';
import { produceHandler } from './produce.ts';

/** A partition that takes any append (offsets counted), enough for the produce handler. */
function standInPartition(topicName: string, index: number) {
  let end = 0;
  return {
    index,
    offline: false,
    topic: { name: topicName, isInternal: false },
    appended: 0,
    append(records: Uint8Array) {
      this.appended++;
      const baseOffset = end++;
      return {
        baseOffset,
        lastOffset: baseOffset,
        logAppendTime: -1,
        maxTimestamp: -1,
        recordCount: 1,
        logStartOffset: 0,
        rolled: false,
        duplicate: false,
        records,
      };
    },
  };
}

function brokerOver(h: Harness, topics: Record<string, number> = { t: 2 }) {
  const partitions = new Map(Object.entries(topics).map(([name, n]) => [name, Array.from({ length: n }, (_, i) => standInPartition(name, i))]));
  const broker = {
    nodeId: 1,
    authorizer: null,
    cluster: null,
    logger: silentLogger,
    transactions: h.coordinator,
    metrics: new BrokerMetrics({ appendMode: 'mmap' }),
    quotas: new ClientQuotas(new MemoryClientQuotaStore(), { samples: 11, windowMs: 1000 }, { samples: 11, windowMs: 1000 }),
    config: { bool: () => false },
    topics: { get: (name: string) => (partitions.has(name) ? { name, partitions: partitions.get(name)! } : undefined) },
  };
  return { broker: broker as unknown as BrokerContext, partitions };
}

async function init(broker: BrokerContext, transactionalId = 'tx') {
  const r = await callHandler(initProducerIdHandler, broker, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
  expect(r.errorCode).toBe(ErrorCode.NONE);
  return { transactionalId, producerId: r.producerId as number, producerEpoch: r.producerEpoch as number };
}

function transactionalBatch(producerId: number, producerEpoch: number, transactional = true): Uint8Array {
  return buildRecordBatch({ records: [{ key: null, value: new TextEncoder().encode('v') }], producerId, producerEpoch, baseSequence: 0, transactional });
}

describe('transaction handlers', () => {
  test('AddPartitionsToTxn v0-3: unknown partitions answer UNKNOWN_TOPIC_OR_PARTITION, the rest OPERATION_NOT_ATTEMPTED, nothing added', async () => {
    const h = await harness();
    const { broker } = brokerOver(h);
    const p = await init(broker);
    const answer = await callHandler(addPartitionsToTxnHandler, broker, 3, {
      v3AndBelowTransactionalId: p.transactionalId,
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: 't', partitions: [0, 5] }],
    });
    expect(answer.resultsByTopicV3AndBelow).toEqual([
      expect.objectContaining({
        name: 't',
        resultsByPartition: [
          expect.objectContaining({ partitionIndex: 0, partitionErrorCode: ErrorCode.OPERATION_NOT_ATTEMPTED }),
          expect.objectContaining({ partitionIndex: 5, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }),
        ],
      }),
    ]);
    expect(h.coordinator.get('tx')?.state).toBe('Empty');
  });

  test('AddPartitionsToTxn then verification: v4 VerifyOnly per partition, v1 fenced is INVALID_PRODUCER_EPOCH, v2 PRODUCER_FENCED', async () => {
    const h = await harness();
    const { broker } = brokerOver(h);
    const p = await init(broker);
    const add = (version: number, epoch: number) =>
      callHandler(addPartitionsToTxnHandler, broker, version, {
        v3AndBelowTransactionalId: 'tx',
        v3AndBelowProducerId: p.producerId,
        v3AndBelowProducerEpoch: epoch,
        v3AndBelowTopics: [{ name: 't', partitions: [0] }],
      });
    expect((await add(3, p.producerEpoch)).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(ErrorCode.NONE);
    expect((await add(1, p.producerEpoch + 5)).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await add(2, p.producerEpoch + 5)).resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(ErrorCode.PRODUCER_FENCED);
    const verify = async (version: number) =>
      (
        await callHandler(addPartitionsToTxnHandler, broker, version, {
          transactions: [
            { transactionalId: 'tx', producerId: p.producerId, producerEpoch: p.producerEpoch, verifyOnly: true, topics: [{ name: 't', partitions: [0, 1] }] },
          ],
        })
      ).resultsByTransaction[0].topicResults[0].resultsByPartition.map((r: { partitionErrorCode: number }) => r.partitionErrorCode);
    expect(await verify(5)).toEqual([ErrorCode.NONE, ErrorCode.TRANSACTION_ABORTABLE]);
    expect(await verify(4)).toEqual([ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE]);
  });

  test('produce: a transactional batch needs its partition in the transaction (errors per version)', async () => {
    const h = await harness();
    const { broker, partitions } = brokerOver(h);
    const p = await init(broker);
    const produce = async (version: number, partition: number, transactionalId: string | null, batch = transactionalBatch(p.producerId, p.producerEpoch)) =>
      (
        await callHandler(produceHandler, broker, version, {
          transactionalId,
          acks: -1,
          timeoutMs: 1000,
          topicData: [{ name: 't', partitionData: [{ index: partition, records: batch }] }],
        })
      ).responses[0].partitionResponses[0].errorCode;
    // Not added yet: refused, nothing appended.
    expect(await produce(11, 0, 'tx')).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await produce(10, 0, 'tx')).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(partitions.get('t')![0].appended).toBe(0);
    await callHandler(addPartitionsToTxnHandler, broker, 3, {
      v3AndBelowTransactionalId: 'tx',
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: 't', partitions: [0] }],
    });
    expect(await produce(11, 0, 'tx')).toBe(ErrorCode.NONE);
    expect(partitions.get('t')![0].appended).toBe(1);
    // Another partition, no transactional id, a stale epoch, another producer id.
    expect(await produce(11, 1, 'tx')).toBe(ErrorCode.TRANSACTION_ABORTABLE);
    expect(await produce(11, 0, null)).toBe(ErrorCode.INVALID_TXN_STATE);
    expect(await produce(11, 0, 'tx', transactionalBatch(p.producerId, p.producerEpoch - 1 < 0 ? 7 : p.producerEpoch - 1))).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    expect(await produce(11, 0, 'tx', transactionalBatch(p.producerId + 1, p.producerEpoch))).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    // A non-transactional batch is not verified.
    expect(await produce(11, 1, null, transactionalBatch(p.producerId, p.producerEpoch, false))).toBe(ErrorCode.NONE);
    // While the transaction completes (markers held), the retriable NOT_ENOUGH_REPLICAS.
    h.markers.hold();
    const ended = await callHandler(endTxnHandler, broker, 3, {
      transactionalId: 'tx',
      producerId: p.producerId,
      producerEpoch: p.producerEpoch,
      committed: true,
    });
    expect(ended.errorCode).toBe(ErrorCode.NONE);
    expect(await produce(11, 0, 'tx')).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    h.markers.release();
    await drive(h);
    expect(h.coordinator.get('tx')?.state).toBe('CompleteCommit');
  });

  test('AddOffsetsToTxn, EndTxn and the describe/list answers', async () => {
    const h = await harness();
    const { broker } = brokerOver(h);
    const p = await init(broker);
    expect((await callHandler(addOffsetsToTxnHandler, broker, 3, { ...p, groupId: 'g' })).errorCode).toBe(ErrorCode.NONE);
    expect((await callHandler(addOffsetsToTxnHandler, broker, 1, { ...p, producerEpoch: p.producerEpoch + 1, groupId: 'g' })).errorCode).toBe(
      ErrorCode.INVALID_PRODUCER_EPOCH,
    );
    const described = await callHandler(describeTransactionsHandler, broker, 0, { transactionalIds: ['tx', 'nope'] });
    expect(described.transactionStates[0]).toMatchObject({
      errorCode: 0,
      transactionalId: 'tx',
      transactionState: 'Ongoing',
      producerId: p.producerId,
      topicPartitions: [{ name: '__consumer_offsets' }],
    });
    expect(described.transactionStates[1]).toMatchObject({ errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId: 'nope' });
    const listed = await callHandler(listTransactionsHandler, broker, 2, {
      stateFilters: ['Ongoing', 'Bogus'],
      producerIdFilters: [],
      durationFilter: -1,
      transactionalIdPattern: 't.',
    });
    expect(listed).toMatchObject({
      errorCode: 0,
      unknownStateFilters: ['Bogus'],
      transactionStates: [{ transactionalId: 'tx', producerId: p.producerId, transactionState: 'Ongoing' }],
    });
    const aborted = await callHandler(endTxnHandler, broker, 5, { ...p, committed: false });
    // transaction.version 1: a v5 EndTxn is served as the classic protocol (the epoch stays).
    expect(aborted).toMatchObject({ errorCode: ErrorCode.NONE, producerId: p.producerId, producerEpoch: p.producerEpoch });
    await drive(h);
    expect(h.markers.markers({ topic: '__consumer_offsets', partition: described.transactionStates[0].topicPartitions[0].partitionIndexes[0] })).toMatchObject([
      { result: 'ABORT' },
    ]);
    // A commit after the abort: INVALID_TXN_STATE.
    expect((await callHandler(endTxnHandler, broker, 3, { ...p, committed: true })).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  test('produce between EndTxn and its durable PrepareCommit is refused (retriable), not added to the transaction', async () => {
    const h = await harness();
    const { broker, partitions } = brokerOver(h);
    const p = await init(broker);
    await callHandler(addPartitionsToTxnHandler, broker, 3, {
      v3AndBelowTransactionalId: 'tx',
      v3AndBelowProducerId: p.producerId,
      v3AndBelowProducerEpoch: p.producerEpoch,
      v3AndBelowTopics: [{ name: 't', partitions: [0] }],
    });
    h.log.holdFlushes();
    const ending = callHandler(endTxnHandler, broker, 3, { transactionalId: 'tx', producerId: p.producerId, producerEpoch: p.producerEpoch, committed: true });
    const produced = await callHandler(produceHandler, broker, 11, {
      transactionalId: 'tx',
      acks: -1,
      timeoutMs: 1000,
      topicData: [{ name: 't', partitionData: [{ index: 0, records: transactionalBatch(p.producerId, p.producerEpoch) }] }],
    });
    expect(produced.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(partitions.get('t')![0].appended).toBe(0);
    h.log.releaseFlushes();
    expect((await ending).errorCode).toBe(ErrorCode.NONE);
    await drive(h);
  });
});

// DescribeProducers (key 61).
// Behavior: per partition, the producers with a transaction open there, from the native producer
// state (`kafka-transactions.sh describe-producers`, and how `find-hanging` spots a transaction
// that holds the last stable offset back): producer id and epoch, the transaction's first offset,
// its last timestamp. A partition that does not exist answers UNKNOWN_TOPIC_OR_PARTITION, an
// offline one KAFKA_STORAGE_ERROR.
// Departure: Kafka lists every producer the partition has state for (idempotent ones too, with
// their last sequence); the native contract exposes the producers with an open transaction, so
// those are listed, lastSequence -1 and coordinatorEpoch -1 (unknown here).
// Version notes: served v0 (flexible).

import { ErrorCode } from '@sluice/protocol';
import { partitionFailure } from '../storage-errors.ts';
import { defineHandler } from './handler.ts';

export const describeProducersHandler = defineHandler({
  apiKey: 61,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    const topics = request.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitionIndexes.map((index) => {
          const none = { partitionIndex: index, errorMessage: null, activeProducers: [] };
          const partition = topic?.partitions[index];
          if (partition === undefined) return { ...none, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          if (partition.offline) return { ...none, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
          try {
            const activeProducers = partition.log.ongoingTransactions().map((p) => ({
              producerId: p.producerId,
              producerEpoch: p.producerEpoch,
              lastSequence: -1,
              lastTimestamp: p.lastTimestamp,
              coordinatorEpoch: -1,
              currentTxnStartOffset: p.firstOffset,
            }));
            return { ...none, errorCode: ErrorCode.NONE, activeProducers };
          } catch (err) {
            const failure = partitionFailure(err);
            if (failure.unexpected) broker.logger.error({ err }, 'describe producers failed unexpectedly');
            return { ...none, errorCode: failure.errorCode, errorMessage: failure.message };
          }
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
});

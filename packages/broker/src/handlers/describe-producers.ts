// DescribeProducers (key 61).
// Behavior: per partition, every producer the native producer state holds
// (`kafka-transactions.sh describe-producers`, and how `find-hanging` spots a transaction that
// holds the last stable offset back): producer id and epoch, last sequence, last timestamp, the
// coordinator epoch of its last marker, and the first offset of its open transaction (-1 when
// none). A partition that does not exist answers UNKNOWN_TOPIC_OR_PARTITION, an offline one
// KAFKA_STORAGE_ERROR.
// Authorization (KafkaApis): READ on the topic, else TOPIC_AUTHORIZATION_FAILED.
// Version notes: served v0 (flexible).

import { ErrorCode } from '@sluice/protocol';
import { partitionFailure } from '../storage-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const describeProducersHandler = defineHandler({
  apiKey: 61,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    const topics = request.topics.map((t) => {
      const allowed = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
      const topic = broker.topics.get(t.name);
      return {
        name: t.name,
        partitions: t.partitionIndexes.map((index) => {
          const none = { partitionIndex: index, errorMessage: null, activeProducers: [] };
          if (!allowed) return { ...none, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
          const partition = topic?.partitions[index];
          if (partition === undefined) return { ...none, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          if (partition.offline) return { ...none, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
          try {
            const activeProducers = partition.log.producers().map((p) => ({
              producerId: p.producerId,
              producerEpoch: p.producerEpoch,
              lastSequence: p.lastSequence,
              lastTimestamp: p.lastTimestamp,
              coordinatorEpoch: p.coordinatorEpoch,
              currentTxnStartOffset: p.currentTxnStartOffset,
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

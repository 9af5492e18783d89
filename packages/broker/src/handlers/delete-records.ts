// DeleteRecords (key 21).
// Behavior: moves each partition's log start offset up to the given offset (-1 = the high
// watermark); whole segments below it are deleted by the log. An offset above the high
// watermark is OFFSET_OUT_OF_RANGE; a lower one than the current start is a no-op that reports
// the current start (lowWatermark).
// Version notes: served v0–2; v2+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { partitionFailure } from '../storage-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const deleteRecordsHandler = defineHandler({
  apiKey: 21,
  minVersion: 0,
  maxVersion: 2,
  handle(ctx, request) {
    const { broker } = ctx;
    const topics = request.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      // Kafka: DELETE on the topic, checked before its existence.
      const mayDelete = authorize(ctx, AclOperation.DELETE, ResourceType.TOPIC, t.name);
      const partitions = t.partitions.map(({ partitionIndex, offset }) => {
        if (!mayDelete) return { partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        const partition = topic?.partitions[partitionIndex];
        if (partition === undefined) return { partitionIndex, lowWatermark: -1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        if (partition.offline) return { partitionIndex, lowWatermark: -1, errorCode: ErrorCode.KAFKA_STORAGE_ERROR };
        const target = offset === -1 ? partition.highWatermark : offset;
        if (target < 0 || target > partition.highWatermark) return { partitionIndex, lowWatermark: -1, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
        try {
          if (target > partition.logStartOffset) {
            partition.log.deleteRecordsBefore(target);
            partition.notifyChanged();
          }
          return { partitionIndex, lowWatermark: partition.logStartOffset, errorCode: 0 };
        } catch (err) {
          const failure = partitionFailure(err);
          if (failure.unexpected) broker.logger.error({ err }, 'delete records failed unexpectedly');
          return { partitionIndex, lowWatermark: -1, errorCode: failure.errorCode };
        }
      });
      return { name: t.name, partitions };
    });
    return { throttleTimeMs: 0, topics };
  },
});

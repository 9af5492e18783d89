// ListOffsets (key 2).
// Behavior: timestamp -2 = log start offset, -1 = log end (high watermark; under read_committed,
// isolationLevel 1, the last stable offset), -3 = the record with the largest timestamp (v7+),
// otherwise the first offset whose timestamp is >= the given one (through the time index), or no
// offset (-1) when none is — under read_committed none at or past the last stable offset, as
// Kafka's fetchOffsetForTimestamp. Single node: leader epoch 0.
// Version notes: served v1–7 (v0's multi-offset answer is not served). v2 isolationLevel; v4
// currentLeaderEpoch/leaderEpoch; v6+ flexible; v7 max-timestamp lookup.

import { ErrorCode } from '@sluice/protocol';
import { partitionFailure } from '../storage-errors.ts';
import { defineHandler } from './handler.ts';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;

export const listOffsetsHandler = defineHandler({
  apiKey: 2,
  minVersion: 1,
  maxVersion: 7,
  handle(ctx, request) {
    const { broker } = ctx;
    const readCommitted = (request.isolationLevel ?? 0) === 1;
    const topics = request.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      const partitions = t.partitions.map((p) => {
        const failed = (errorCode: number) => ({ partitionIndex: p.partitionIndex, errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 });
        const partition = topic?.partitions[p.partitionIndex];
        if (partition === undefined) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (partition.offline) return failed(ErrorCode.KAFKA_STORAGE_ERROR);
        if ((p.currentLeaderEpoch ?? -1) > 0) return failed(ErrorCode.UNKNOWN_LEADER_EPOCH);
        const found = (offset: number, timestamp: number) => ({ partitionIndex: p.partitionIndex, errorCode: 0, timestamp, offset, leaderEpoch: 0 });
        try {
          switch (p.timestamp) {
            case EARLIEST:
              return found(partition.logStartOffset, -1);
            case LATEST:
              return found(readCommitted ? partition.lastStableOffset : partition.highWatermark, -1);
            case MAX_TIMESTAMP: {
              const max = partition.log.maxTimestamp();
              return max === null ? found(-1, -1) : found(max.offset, max.timestamp);
            }
            default: {
              if (p.timestamp < 0) return failed(ErrorCode.INVALID_REQUEST);
              // Past 2^53 ms (year 287396) no record can match.
              if (!Number.isSafeInteger(p.timestamp)) return { ...found(-1, -1), leaderEpoch: -1 };
              const hit = partition.log.offsetForTimestamp(p.timestamp);
              // No record at or after the timestamp (or none a read_committed consumer may see
              // yet): Kafka answers offset -1, timestamp -1.
              if (hit === null || (readCommitted && hit.offset >= partition.lastStableOffset)) return { ...found(-1, -1), leaderEpoch: -1 };
              return found(hit.offset, hit.timestamp);
            }
          }
        } catch (err) {
          const failure = partitionFailure(err);
          if (failure.unexpected) broker.logger.error({ err }, 'list offsets failed unexpectedly');
          return failed(failure.errorCode);
        }
      });
      return { name: t.name, partitions };
    });
    return { throttleTimeMs: 0, topics };
  },
});

// ListOffsets (key 2).
// Behavior: timestamp -2 = log start offset, -1 = log end (high watermark; under read_committed,
// isolationLevel 1, the last stable offset), -3 = the record with the largest timestamp (v7+),
// -4 = the earliest offset on local disk (v8+: the log start, as all of the log is local), -5 =
// the latest offset in tiered storage (v9+: none, offset -1, as Kafka answers with remote storage
// off), otherwise the first offset whose timestamp is >= the given one (through the time index),
// or no offset (-1) when none is — under read_committed none at or past the last stable offset,
// as Kafka's fetchOffsetForTimestamp. Each answer carries the leader epoch of the offset found
// (the leader-epoch cache; a single node's partitions are all epoch 0). currentLeaderEpoch is
// checked as Fetch does: newer than the partition's UNKNOWN_LEADER_EPOCH, older
// FENCED_LEADER_EPOCH; in cluster mode only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere).
// Version notes: served v1–10 (v0's multi-offset answer is not served). v2 isolationLevel; v4
// currentLeaderEpoch/leaderEpoch; v6+ flexible; v7 max-timestamp lookup; v8 earliest-local; v9
// latest-tiered; v10 timeoutMs (for remote storage; nothing waits here). v11 (earliest pending
// upload) needs tiered storage.

import { ErrorCode } from '@sluice/protocol';
import { partitionFailure } from '../storage-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const LATEST_TIERED = -5;

export const listOffsetsHandler = defineHandler({
  apiKey: 2,
  minVersion: 1,
  maxVersion: 10,
  handle(ctx, request) {
    const { broker } = ctx;
    const readCommitted = (request.isolationLevel ?? 0) === 1;
    const topics = request.topics.map((t) => {
      const topic = broker.topics.get(t.name);
      // Kafka: DESCRIBE on the topic, checked before its existence.
      const mayDescribe = authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name);
      const partitions = t.partitions.map((p) => {
        const failed = (errorCode: number) => ({ partitionIndex: p.partitionIndex, errorCode, timestamp: -1, offset: -1, leaderEpoch: -1 });
        if (!mayDescribe) return failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const partition = topic?.partitions[p.partitionIndex];
        if (partition === undefined) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (partition.offline) return failed(ErrorCode.KAFKA_STORAGE_ERROR);
        const currentLeaderEpoch = p.currentLeaderEpoch ?? -1;
        if (currentLeaderEpoch > partition.leaderEpoch) return failed(ErrorCode.UNKNOWN_LEADER_EPOCH);
        if (currentLeaderEpoch >= 0 && currentLeaderEpoch < partition.leaderEpoch) return failed(ErrorCode.FENCED_LEADER_EPOCH);
        if (broker.cluster !== null && partition.isReplicated && !broker.cluster.isLeader(t.name, p.partitionIndex))
          return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        // The epoch the offset was written in: the last epoch that starts at or before it.
        const epochOf = (offset: number) => {
          let epoch = partition.epochs.all.length === 0 ? partition.leaderEpoch : -1;
          for (const e of partition.epochs.all) if (e.startOffset <= offset) epoch = e.epoch;
          return epoch === -1 ? partition.leaderEpoch : epoch;
        };
        const found = (offset: number, timestamp: number) => ({
          partitionIndex: p.partitionIndex,
          errorCode: 0,
          timestamp,
          offset,
          leaderEpoch: epochOf(offset),
        });
        try {
          switch (p.timestamp) {
            case EARLIEST:
            case EARLIEST_LOCAL:
              return found(partition.logStartOffset, -1);
            case LATEST_TIERED:
              return { ...found(-1, -1), leaderEpoch: -1 };
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

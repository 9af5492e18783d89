// WriteTxnMarkers (key 27).
// Behavior: served as Kafka serves it (a coordinator asking a partition leader): each requested
// COMMIT/ABORT marker is appended to each named local partition through the same path as the
// transaction coordinator's own markers (PartitionMarkerWriter: the native marker append, then
// pending TxnOffsetCommit offsets resolved for `__consumer_offsets` partitions), answered per
// partition once durable per the ack policy. A partition that does not exist answers
// UNKNOWN_TOPIC_OR_PARTITION; the native refusals (INVALID_PRODUCER_EPOCH for an older epoch,
// TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch) as their codes. On one node the
// broker's own coordinator never sends this; admin tools and tests may.
// Authorization (KafkaApis): CLUSTER_ACTION on the cluster, else every partition
// CLUSTER_AUTHORIZATION_FAILED.
// Version notes: served v1–2 (Kafka 4 removed v0), flexible; v2 adds transactionVersion (2: the
// marker's epoch must be above the producer's).

import { ErrorCode } from '@sluice/protocol';
import type { Partition } from '../partition.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const writeTxnMarkersHandler = defineHandler({
  apiKey: 27,
  minVersion: 1,
  maxVersion: 2,
  async handle(ctx, request) {
    const { markers } = ctx.broker;
    if (!authorize(ctx, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_NAME)) {
      const denied = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return {
        markers: request.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: denied })) })),
        })),
      };
    }
    const now = Date.now();
    const written: Partition[] = [];
    const answered = request.markers.map((m) => {
      const marker = {
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        coordinatorEpoch: m.coordinatorEpoch,
        result: m.transactionResult ? ('COMMIT' as const) : ('ABORT' as const),
      };
      const results = m.topics.flatMap((t) =>
        t.partitionIndexes.map((partition) => {
          const outcome = markers.appendOne({ topic: t.name, partition }, marker, now);
          if (outcome.partition !== null) written.push(outcome.partition);
          return { topic: t.name, partition, errorCode: outcome.errorCode };
        }),
      );
      return { producerId: m.producerId, topics: m.topics, results };
    });
    const durable = await markers.afterDurable(
      answered.flatMap((a) => a.results),
      written,
    );
    const code = new Map(durable.map((r) => [`${r.topic}\u0000${r.partition}`, r.errorCode]));
    return {
      markers: answered.map((a) => ({
        producerId: a.producerId,
        topics: a.topics.map((t) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, errorCode: code.get(`${t.name}\u0000${p}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR })),
        })),
      })),
    };
  },
});

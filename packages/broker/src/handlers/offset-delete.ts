// OffsetDelete (key 47).
// Behavior: as Kafka's KafkaApis + GroupCoordinator. Partitions of unknown topics, or beyond a
// topic's partition count (in the cluster: known-partitions.ts), are UNKNOWN_TOPIC_OR_PARTITION; the rest go to the group coordinator,
// which refuses the whole request for an unknown group (GROUP_ID_NOT_FOUND) or a group with
// members that is not a consumer group (NON_EMPTY_GROUP), answers GROUP_SUBSCRIBED_TO_TOPIC for
// the partitions of topics a member of a consumer group subscribes to, and deletes the other
// committed offsets (tombstones in the offsets log; answered once durable; a partition without a
// committed offset is simply NONE). The per-partition errors of both steps are merged, with the
// coordinator's top-level error.
// Authorization as Kafka's KafkaApis: DELETE on the group, else GROUP_AUTHORIZATION_FAILED for
// the request (no topics); then READ on each topic, else TOPIC_AUTHORIZATION_FAILED for each of
// its partitions (checked before the topic's existence).
// Version notes: served v0 (not flexible), the only version Kafka 4.4 has.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { partitionExists } from './known-partitions.ts';

type PartitionResult = { partitionIndex: number; errorCode: number };

export const offsetDeleteHandler = defineHandler({
  apiKey: 47,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { broker } = ctx;
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) {
      return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    }
    const results = new Map<string, PartitionResult[]>();
    const add = (name: string, partitions: readonly PartitionResult[]) => results.set(name, [...(results.get(name) ?? []), ...partitions]);
    const known: Array<{ name: string; partitions: number[] }> = [];
    for (const t of request.topics) {
      if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name)) {
        add(
          t.name,
          t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
        );
        continue;
      }
      const indexes = t.partitions.map((p) => p.partitionIndex);
      const exists = (i: number) => partitionExists(broker, t.name, i);
      const unknown = indexes.filter((i) => !exists(i));
      if (unknown.length > 0)
        add(
          t.name,
          unknown.map((partitionIndex) => ({ partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })),
        );
      const present = indexes.filter(exists);
      if (present.length > 0) known.push({ name: t.name, partitions: present });
    }
    const deleted = await broker.groups.deleteOffsets(request.groupId, known);
    for (const t of deleted.topics) add(t.name, t.partitions);
    return {
      errorCode: deleted.errorCode,
      throttleTimeMs: 0,
      topics: [...results].map(([name, partitions]) => ({ name, partitions })),
    };
  },
});

// OffsetFetch (key 9).
// Behavior: committed offsets of a group from the coordinator; a partition without a committed
// offset answers offset -1, leader epoch -1, metadata "" and no error; topics = null (v2+) asks
// for every partition the group committed. With requireStable (v7+) a partition whose offset
// is inside an open transaction (TxnOffsetCommit not yet committed or aborted) answers
// UNSTABLE_OFFSET_COMMIT (retriable) instead of its offset, as Kafka.
// Version notes: served v1–9 (Kafka 4 dropped v0). v2 nullable topics and a top-level error;
// v3 throttle time; v5 committedLeaderEpoch; v6+ flexible; v7 requireStable; v8 batches groups
// (request `groups`, response `groups` with a per-group error) and drops the single-group
// fields; v9 memberId/memberEpoch for KIP-848 groups: a member's fetch is checked as Kafka does
// (UNKNOWN_MEMBER_ID, or STALE_MEMBER_EPOCH for any other epoch, as the group's error; epoch -1,
// the admin client, is not checked); classic groups ignore them.

import { ErrorCode, type OffsetFetchResponseGroupsTopics } from '@sluice/protocol';
import type { OffsetFetchResult } from '../groups/types.ts';
import { AclOperation, authorize, authorizeQuietly, ResourceType } from './authorization.ts';
import { defineHandler, type RequestContext } from './handler.ts';

type TopicFilter = ReadonlyArray<{ name: string; partitionIndexes: readonly number[] }> | null;

/**
 * One group's offsets as Kafka's KafkaApis answers them: DESCRIBE on the group, else
 * GROUP_AUTHORIZATION_FAILED (each named partition carries it too); then DESCRIBE on each topic:
 * named topics answer TOPIC_AUTHORIZATION_FAILED per partition, an all-partitions request leaves
 * them out.
 */
function authorizedFetch(ctx: RequestContext, groupId: string, topics: TopicFilter, requireStable: boolean): OffsetFetchResult {
  const failedPartitions = (t: { name: string; partitionIndexes: readonly number[] }, errorCode: number) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode })),
  });
  if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
    return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: (topics ?? []).map((t) => failedPartitions(t, ErrorCode.GROUP_AUTHORIZATION_FAILED)) };
  }
  const { groups } = ctx.broker;
  if (topics === null) {
    const all = groups.fetchOffsets(groupId, null, requireStable);
    return { ...all, topics: all.topics.filter((t) => authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) };
  }
  const allowed = topics.filter((t) => authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name));
  if (allowed.length === topics.length) return groups.fetchOffsets(groupId, topics, requireStable);
  const result = allowed.length === 0 ? { errorCode: ErrorCode.NONE, topics: [] } : groups.fetchOffsets(groupId, allowed, requireStable);
  const denied = topics.filter((t) => !allowed.includes(t)).map((t) => failedPartitions(t, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
  return { errorCode: result.errorCode, topics: [...result.topics, ...denied] };
}

/** The committed offsets as v1-7 carry them at the top level and v8+ per group (same shape). */
function topicsOf(result: OffsetFetchResult): OffsetFetchResponseGroupsTopics[] {
  return result.topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p) => ({
      partitionIndex: p.partitionIndex,
      committedOffset: p.committedOffset,
      committedLeaderEpoch: p.committedLeaderEpoch,
      metadata: p.metadata,
      errorCode: p.errorCode,
    })),
  }));
}

export const offsetFetchHandler = defineHandler({
  apiKey: 9,
  minVersion: 1,
  maxVersion: 9,
  handle(ctx, request) {
    if (ctx.header.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        groups: (request.groups ?? []).map((g) => {
          // A KIP-848 member's fetch is checked once the group may be described (Kafka's order).
          const invalid = authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)
            ? ctx.broker.groups.validateOffsetFetch(g.groupId, g.memberId ?? null, g.memberEpoch ?? -1)
            : 0;
          if (invalid !== 0) return { groupId: g.groupId, topics: [], errorCode: invalid };
          const result = authorizedFetch(ctx, g.groupId, g.topics, request.requireStable ?? false);
          return { groupId: g.groupId, topics: topicsOf(result), errorCode: result.errorCode };
        }),
      };
    }
    // v1-7: groupId and topics are always there (null topics = all, v2+).
    const result = authorizedFetch(ctx, request.groupId ?? '', request.topics ?? null, request.requireStable ?? false);
    return { throttleTimeMs: 0, topics: topicsOf(result), errorCode: result.errorCode };
  },
});

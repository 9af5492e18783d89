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
// (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH, FENCED_MEMBER_EPOCH as the group's error; epoch -1,
// the admin client, is not checked); classic groups ignore them.

import type { OffsetFetchResponseGroupsTopics } from '@sluice/protocol';
import type { OffsetFetchResult } from '../groups/types.ts';
import { defineHandler } from './handler.ts';

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
    const { groups } = ctx.broker;
    if (ctx.header.apiVersion >= 8) {
      return {
        throttleTimeMs: 0,
        groups: (request.groups ?? []).map((g) => {
          const invalid = groups.validateOffsetFetch(g.groupId, g.memberId ?? null, g.memberEpoch ?? -1);
          if (invalid !== 0) return { groupId: g.groupId, topics: [], errorCode: invalid };
          const result = groups.fetchOffsets(g.groupId, g.topics, request.requireStable ?? false);
          return { groupId: g.groupId, topics: topicsOf(result), errorCode: result.errorCode };
        }),
      };
    }
    // v1-7: groupId and topics are always there (null topics = all, v2+).
    const result = groups.fetchOffsets(request.groupId ?? '', request.topics ?? null, request.requireStable ?? false);
    return { throttleTimeMs: 0, topics: topicsOf(result), errorCode: result.errorCode };
  },
});

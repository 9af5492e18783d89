// OffsetFetch (key 9).
// Behavior: committed offsets of a group from the coordinator; a partition without a committed
// offset answers offset -1, leader epoch -1, metadata "" and no error; topics = null (v2+) asks
// for every partition the group committed. No transactions are served, so there are never
// unstable offsets and requireStable changes nothing.
// Version notes: served v1–9 (Kafka 4 dropped v0). v2 nullable topics and a top-level error;
// v3 throttle time; v5 committedLeaderEpoch; v6+ flexible; v7 requireStable; v8 batches groups
// (request `groups`, response `groups` with a per-group error) and drops the single-group
// fields; v9 memberId/memberEpoch for KIP-848 groups (not used by classic groups).

import type { OffsetFetchResult } from '../groups/types.ts';
import type { ApiHandler } from './handler.ts';

type RequestTopics = Array<{ name: string; partitionIndexes: number[] }> | null;

function topicsOf(result: OffsetFetchResult): object[] {
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

export const offsetFetchHandler: ApiHandler = {
  apiKey: 9,
  minVersion: 1,
  maxVersion: 9,
  handle(ctx, request) {
    const { groups } = ctx.broker;
    if (ctx.header.apiVersion >= 8) {
      const requested = request.groups as Array<{ groupId: string; topics: RequestTopics }>;
      return {
        throttleTimeMs: 0,
        groups: requested.map((g) => {
          const result = groups.fetchOffsets(g.groupId, g.topics);
          return { groupId: g.groupId, topics: topicsOf(result), errorCode: result.errorCode };
        }),
      };
    }
    const result = groups.fetchOffsets(request.groupId, request.topics as RequestTopics);
    return { throttleTimeMs: 0, topics: topicsOf(result), errorCode: result.errorCode };
  },
};

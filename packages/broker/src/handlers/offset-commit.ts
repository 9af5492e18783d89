// OffsetCommit (key 8).
// Behavior: partitions of topics that do not exist answer UNKNOWN_TOPIC_OR_PARTITION (as Kafka
// checks against its metadata: in cluster mode the cluster's topics, known-partitions.ts); the rest go to the group coordinator, which checks the member
// and generation (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID,
// REBALANCE_IN_PROGRESS; generation -1 with no member id commits for a group without members),
// appends the offsets to the offsets log as one batch and answers once that is durable. The
// metadata string is stored as sent ("" for null).
// Version notes: served v2–9 (Kafka 4 dropped v0–1). v2–4 retentionTimeMs (per-offset expiry);
// v3 throttle time; v6 committedLeaderEpoch; v7 groupInstanceId; v8+ flexible; v9 answers
// GROUP_ID_NOT_FOUND instead of ILLEGAL_GENERATION for a generation in a missing group.

import { ErrorCode } from '@sluice/protocol';
import type { OffsetToCommit } from '../groups/types.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { partitionExists } from './known-partitions.ts';

/** Per response partition: a fixed error, or the index of its offset in the commit. */
type Slot = { readonly errorCode: number } | { readonly index: number };

export const offsetCommitHandler = defineHandler({
  apiKey: 8,
  minVersion: 2,
  maxVersion: 9,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const topics = request.topics;
    const offsets: OffsetToCommit[] = [];
    // Kafka: READ on the group, else every partition fails; then READ on each topic (before its
    // existence).
    const mayReadGroup = authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId);
    const slots = topics.map((t) => {
      const mayReadTopic = mayReadGroup && authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
      return t.partitions.map((p): Slot => {
        if (!mayReadGroup) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
        if (!mayReadTopic) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        if (!partitionExists(broker, t.name, p.partitionIndex)) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        offsets.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata: p.committedMetadata,
        });
        return { index: offsets.length - 1 };
      });
    });
    const errors =
      offsets.length === 0
        ? []
        : await broker.groups.commitOffsets({
            groupId: request.groupId,
            generationId: request.generationIdOrMemberEpoch,
            memberId: request.memberId,
            groupInstanceId: request.groupInstanceId ?? null,
            retentionTimeMs: header.apiVersion <= 4 ? (request.retentionTimeMs ?? -1) : -1,
            apiVersion: header.apiVersion,
            offsets,
          });
    return {
      throttleTimeMs: 0,
      topics: topics.map((t, ti) => ({
        name: t.name,
        partitions: t.partitions.map((p, pi) => {
          const slot = slots[ti][pi];
          return { partitionIndex: p.partitionIndex, errorCode: 'errorCode' in slot ? slot.errorCode : errors[slot.index] };
        }),
      })),
    };
  },
});

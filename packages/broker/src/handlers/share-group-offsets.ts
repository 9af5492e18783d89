// The share-group offset admin APIs (KIP-932; kafka-share-groups.sh --describe / --reset-offsets
// / --delete-offsets): DescribeShareGroupOffsets (key 90), AlterShareGroupOffsets (91),
// DeleteShareGroupOffsets (92).
// Behavior: Describe answers each share-partition's start offset (all of the group's with a null
// topic list; -1 for a partition the group has no state for) and the partition's leader epoch;
// an id that is no share group is GROUP_ID_NOT_FOUND. Alter sets share-partitions' start
// offsets (each starts over with nothing in flight), Delete forgets every share-partition of the
// topics named; both need a share group without members (NON_EMPTY_GROUP), answer
// UNKNOWN_TOPIC_OR_PARTITION for topics or partitions that do not exist, and reply once the new
// state is durable. Authorization as Kafka's KafkaApis: DESCRIBE (Describe), READ (Alter) or
// DELETE (Delete) on the group, else GROUP_AUTHORIZATION_FAILED; DESCRIBE (Describe) or READ on
// each topic, else TOPIC_AUTHORIZATION_FAILED for it.
// Version notes: served v0 of each (flexible). Kafka 4.2's Describe v1 (lag) is not served.

import { ErrorCode, ZERO_UUID } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const describeShareGroupOffsetsHandler = defineHandler({
  apiKey: 90,
  minVersion: 0,
  maxVersion: 0,
  handle(ctx, request) {
    const { share, topics } = ctx.broker;
    const groups = request.groups.map((g) => {
      const failed = (errorCode: number, errorMessage: string | null) => ({ groupId: g.groupId, topics: [], errorCode, errorMessage });
      if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)) return failed(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
      if (!share.isShareGroup(g.groupId)) return failed(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${g.groupId} is not a share group.`);
      const known = new Map(share.startOffsets(g.groupId).map((o) => [`${o.topicId}:${o.partition}`, o.startOffset]));
      const asked =
        g.topics ??
        [...new Set(share.startOffsets(g.groupId).map((o) => o.topicId))].flatMap((id) => {
          const topic = topics.getById(id);
          if (topic === undefined) return [];
          const partitions = share
            .startOffsets(g.groupId)
            .filter((o) => o.topicId === id)
            .map((o) => o.partition);
          return [{ topicName: topic.name, partitions: partitions.sort((a, b) => a - b) }];
        });
      return {
        groupId: g.groupId,
        errorCode: 0,
        errorMessage: null,
        topics: asked.map((t) => {
          const topic = topics.get(t.topicName);
          const denied = !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topicName);
          return {
            topicName: t.topicName,
            topicId: topic?.id ?? ZERO_UUID,
            partitions: t.partitions.map((p) => {
              const partition = topic?.partitions[p];
              const errorCode = denied ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : partition === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : 0;
              return {
                partitionIndex: p,
                startOffset: errorCode === 0 ? (known.get(`${topic!.id}:${p}`) ?? -1) : -1,
                leaderEpoch: partition?.leaderEpoch ?? -1,
                errorCode,
                errorMessage: null,
              };
            }),
          };
        }),
      };
    });
    return { throttleTimeMs: 0, groups };
  },
});

export const alterShareGroupOffsetsHandler = defineHandler({
  apiKey: 91,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { share, topics } = ctx.broker;
    const refused = (errorCode: number, errorMessage: string | null) => ({ throttleTimeMs: 0, errorCode, errorMessage, responses: [] });
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (ctx.broker.groups.groupState(request.groupId) !== undefined || ctx.broker.groups.consumerGroup(request.groupId) !== undefined) {
      return refused(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a share group.`);
    }
    if (share.hasMembers(request.groupId)) return refused(ErrorCode.NON_EMPTY_GROUP, 'The share group has active members.');
    const responses = await Promise.all(
      request.topics.map(async (t) => {
        const topic = topics.get(t.topicName);
        const denied = !authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.topicName);
        const partitions = await Promise.all(
          t.partitions.map(async (p) => {
            if (denied) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
            if (topic?.partitions[p.partitionIndex] === undefined)
              return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
            if (p.startOffset < 0)
              return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The start offset must not be negative.' };
            const outcome = await share.alterStartOffset(request.groupId, { topicId: topic.id, partition: p.partitionIndex }, p.startOffset);
            return { partitionIndex: p.partitionIndex, ...outcome };
          }),
        );
        return { topicName: t.topicName, topicId: topic?.id ?? ZERO_UUID, partitions };
      }),
    );
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses };
  },
});

export const deleteShareGroupOffsetsHandler = defineHandler({
  apiKey: 92,
  minVersion: 0,
  maxVersion: 0,
  async handle(ctx, request) {
    const { share, topics } = ctx.broker;
    const refused = (errorCode: number, errorMessage: string | null) => ({ throttleTimeMs: 0, errorCode, errorMessage, responses: [] });
    if (!authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, request.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (!share.isShareGroup(request.groupId)) return refused(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a share group.`);
    if (share.hasMembers(request.groupId)) return refused(ErrorCode.NON_EMPTY_GROUP, 'The share group has active members.');
    const responses = await Promise.all(
      request.topics.map(async (t) => {
        const topic = topics.get(t.topicName);
        const base = { topicName: t.topicName, topicId: topic?.id ?? ZERO_UUID };
        if (!authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.topicName))
          return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
        if (topic === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null };
        return { ...base, ...(await share.deleteStartOffsets(request.groupId, topic.id)) };
      }),
    );
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses };
  },
});

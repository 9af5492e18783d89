// ConsumerGroupHeartbeat (key 68), KIP-848.
// Behavior: a member of a consumer group joins (epoch 0), heartbeats with its epoch and the
// partitions it owns, and leaves (-1; a static member leaving for a restart: -2). The answer
// carries the member's epoch, the heartbeat interval and, when it changed (or on a join or a
// full request), the partitions it may use now. All the group logic is the coordinator's
// (groups/consumer-group-manager.ts); errors are Kafka's: INVALID_REQUEST,
// UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION (v1), UNKNOWN_MEMBER_ID,
// FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED,
// GROUP_ID_NOT_FOUND (the id belongs to a classic group with members), COORDINATOR_NOT_AVAILABLE.
// Version notes: served v0-1, both flexible. v1 adds SubscribedTopicRegex and the client makes
// its own member id (KIP-1082); v0 members joining without one get a coordinator-made id.

import { defineHandler } from './handler.ts';

export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: 68,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const result = await ctx.broker.groups.consumerGroupHeartbeat({
      apiVersion: ctx.header.apiVersion,
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      instanceId: request.instanceId,
      rackId: request.rackId,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      subscribedTopicNames: request.subscribedTopicNames,
      subscribedTopicRegex: request.subscribedTopicRegex ?? null,
      serverAssignor: request.serverAssignor,
      topicPartitions: request.topicPartitions,
      clientId: ctx.header.clientId ?? '',
      clientHost: `/${ctx.connection.remoteAddress}`,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      memberId: result.memberId,
      memberEpoch: result.memberEpoch,
      heartbeatIntervalMs: result.heartbeatIntervalMs,
      assignment:
        result.assignment === null
          ? null
          : { topicPartitions: [...result.assignment].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions].sort((a, b) => a - b) })) },
    };
  },
});

// ConsumerGroupHeartbeat (key 68), KIP-848.
// Behavior: a member of a consumer group joins (epoch 0), heartbeats with its epoch and the
// partitions it owns, and leaves (-1; a static member leaving for a restart: -2). The answer
// carries the member's epoch, the heartbeat interval and, when it changed (or on a join or a
// full request), the partitions it may use now. All the group logic is the coordinator's
// (groups/consumer-group-manager.ts); errors are Kafka's: INVALID_REQUEST,
// UNSUPPORTED_ASSIGNOR, INVALID_REGULAR_EXPRESSION (v1), UNKNOWN_MEMBER_ID,
// FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID, UNRELEASED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED,
// GROUP_ID_NOT_FOUND (the id belongs to a classic group with members), COORDINATOR_NOT_AVAILABLE.
// Authorization as Kafka 4's KafkaApis and GroupMetadataManager: READ on the group, else
// GROUP_AUTHORIZATION_FAILED; then DESCRIBE on every subscribed topic name, else
// TOPIC_AUTHORIZATION_FAILED (nothing reaches the coordinator in either case). A regex is not
// refused: the topics it resolves to that this member may not DESCRIBE are left out of the match
// (quietly, as Kafka's logIfDenied = false), with the context of the heartbeat that resolves it.
// Version notes: served v0-1, both flexible. v1 adds SubscribedTopicRegex and the client makes
// its own member id (KIP-1082); v0 members joining without one get a coordinator-made id.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, authorizeQuietly, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const refused = (errorCode: number) => ({
  throttleTimeMs: 0,
  errorCode,
  errorMessage: null,
  memberId: null,
  memberEpoch: 0,
  heartbeatIntervalMs: 0,
  assignment: null,
});

export const consumerGroupHeartbeatHandler = defineHandler({
  apiKey: 68,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const names = request.subscribedTopicNames;
    // Every name is checked (each denial counted), as Kafka's filterByAuthorized.
    if (names !== null && names.filter((name) => !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)).length > 0) {
      return refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
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
      regexTopicVisible: ctx.broker.authorizer === null ? null : (topic) => authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, topic),
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

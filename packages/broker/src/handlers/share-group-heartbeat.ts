// ShareGroupHeartbeat (key 76), KIP-932.
// Behavior: a member of a share group joins (epoch 0, with the member id it made and its
// subscribed topic names), heartbeats with its epoch, and leaves (-1). The answer carries the
// member's epoch, the heartbeat interval (group.share.heartbeat.interval.ms) and, when it
// changed (or on a join), the partitions it may fetch from. The group logic is the share
// coordinator's (share/share-group-manager.ts); errors are Kafka's: INVALID_REQUEST,
// UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, GROUP_MAX_SIZE_REACHED, and GROUP_ID_NOT_FOUND when the
// id belongs to a classic or consumer group ("Group X is not a share group.").
// Authorization as Kafka's KafkaApis: READ on the group, else GROUP_AUTHORIZATION_FAILED; then
// DESCRIBE on every subscribed topic, else TOPIC_AUTHORIZATION_FAILED.
// Version notes: served v1 (flexible); v0 was Kafka 4.0's early access, removed in 4.1.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const refused = (errorCode: number, errorMessage: string | null = null) => ({
  throttleTimeMs: 0,
  errorCode,
  errorMessage,
  memberId: null,
  memberEpoch: 0,
  heartbeatIntervalMs: 0,
  assignment: null,
});

export const shareGroupHeartbeatHandler = defineHandler({
  apiKey: 76,
  minVersion: 1,
  maxVersion: 1,
  handle(ctx, request) {
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return refused(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const names = request.subscribedTopicNames;
    if (names !== null && names.filter((name) => !authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)).length > 0) {
      return refused(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    }
    const groups = ctx.broker.groups;
    if (groups.groupState(request.groupId) !== undefined || groups.consumerGroup(request.groupId) !== undefined) {
      return refused(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${request.groupId} is not a share group.`);
    }
    const result = ctx.broker.share.heartbeat({
      groupId: request.groupId,
      memberId: request.memberId,
      memberEpoch: request.memberEpoch,
      rackId: request.rackId,
      subscribedTopicNames: request.subscribedTopicNames,
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

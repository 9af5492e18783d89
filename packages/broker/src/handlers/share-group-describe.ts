// ShareGroupDescribe (key 77), KIP-932.
// Behavior: per group id, the share group's state (Empty, Stable), group epoch, assignment epoch,
// assignor (simple) and members (epoch, client, subscription, assignment with topic names). An
// id that is no share group answers GROUP_ID_NOT_FOUND, an empty id INVALID_GROUP_ID.
// Authorization as Kafka's KafkaApis: DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED;
// authorized operations from the authorizer when asked for.
// Version notes: served v1 (flexible); v0 was Kafka 4.0's early access, removed in 4.1.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, AUTHORIZED_OPERATIONS_OMITTED, authorize, authorizedOperations, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const failedGroup = (groupId: string, errorCode: number, errorMessage: string | null) => ({
  errorCode,
  errorMessage,
  groupId,
  groupState: '',
  groupEpoch: 0,
  assignmentEpoch: 0,
  assignorName: '',
  members: [],
  authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
});

export const shareGroupDescribeHandler = defineHandler({
  apiKey: 77,
  minVersion: 1,
  maxVersion: 1,
  handle(ctx, request) {
    const { share, topics } = ctx.broker;
    return {
      throttleTimeMs: 0,
      groups: request.groupIds.map((groupId) => {
        if (groupId === '') return failedGroup(groupId, ErrorCode.INVALID_GROUP_ID, null);
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) return failedGroup(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
        const g = share.describe(groupId);
        if (g === undefined) return failedGroup(groupId, ErrorCode.GROUP_ID_NOT_FOUND, `Group ${groupId} not found.`);
        return {
          errorCode: 0,
          errorMessage: null,
          groupId,
          groupState: g.groupState,
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignorName: 'simple',
          members: g.members.map((m) => ({
            memberId: m.memberId,
            rackId: m.rackId,
            memberEpoch: m.epoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            assignment: {
              topicPartitions: [...m.assignment].map(([topicId, partitions]) => ({
                topicId,
                topicName: topics.getById(topicId)?.name ?? '',
                partitions: [...partitions].sort((a, b) => a - b),
              })),
            },
          })),
          authorizedOperations: request.includeAuthorizedOperations ? authorizedOperations(ctx, ResourceType.GROUP, groupId) : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});

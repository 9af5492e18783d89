// ConsumerGroupDescribe (key 69), KIP-848.
// Behavior: per group id, the consumer group's state, group epoch, target assignment epoch,
// assignor and members (epoch, client, subscription, current and target assignment with topic
// names). An id that is no consumer group answers GROUP_ID_NOT_FOUND (a classic group's id too:
// "Group X is not a consumer group."), an empty id INVALID_GROUP_ID. Without an authorizer the
// authorized operations are those of a group: READ, DELETE, DESCRIBE.
// Version notes: served v0-1, both flexible; v1 (KIP-1099) adds each member's type: 1 (consumer
// protocol) for every member here, as classic members never join consumer groups on this broker.

import type { Assignment } from '../groups/consumer-group.ts';
import { defineHandler } from './handler.ts';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
// Kafka's AclOperation codes READ = 3, DELETE = 6, DESCRIBE = 8, as a 32-bit field.
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);
const CONSUMER_MEMBER_TYPE = 1;

export const consumerGroupDescribeHandler = defineHandler({
  apiKey: 69,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const { groups, topics } = ctx.broker;
    const described = (a: Assignment) => ({
      topicPartitions: [...a].map(([topicId, partitions]) => ({
        topicId,
        topicName: topics.getById(topicId)?.name ?? '',
        partitions: [...partitions].sort((x, y) => x - y),
      })),
    });
    return {
      throttleTimeMs: 0,
      groups: request.groupIds.map((groupId) => {
        const g = groups.consumerGroupDescribe(groupId);
        return {
          errorCode: g.errorCode,
          errorMessage: g.errorMessage,
          groupId: g.groupId,
          groupState: g.groupState,
          groupEpoch: g.groupEpoch,
          assignmentEpoch: g.assignmentEpoch,
          assignorName: g.assignorName,
          members: g.members.map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: described(m.assignment),
            targetAssignment: described(m.targetAssignment),
            memberType: CONSUMER_MEMBER_TYPE,
          })),
          authorizedOperations: request.includeAuthorizedOperations ? GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED,
        };
      }),
    };
  },
});

// ConsumerGroupDescribe (key 69), KIP-848.
// Behavior: per group id, the consumer group's state, group epoch, target assignment epoch,
// assignor and members (epoch, client, subscription, current and target assignment with topic
// names). An id that is no consumer group answers GROUP_ID_NOT_FOUND (a classic group's id too:
// "Group X is not a consumer group."), an empty id INVALID_GROUP_ID.
// Authorization as Kafka 4's KafkaApis: DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED
// (those groups come first in the answer, then the described ones, as Kafka); authorized
// operations from the authorizer for the groups described without error; then, with an
// authorizer, a group whose members' assignment or target assignment names a topic the principal
// may not DESCRIBE is answered TOPIC_AUTHORIZATION_FAILED with no members, so neither the topic
// nor who owns it shows.
// Version notes: served v0-1, both flexible; v1 (KIP-1099) adds each member's type: 1 (consumer
// protocol) for every member here, as classic members never join consumer groups on this broker.

import { ErrorCode } from '@sluice/protocol';
import type { Assignment } from '../groups/consumer-group.ts';
import { AclOperation, AUTHORIZED_OPERATIONS_OMITTED, authorize, authorizedOperations, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const CONSUMER_MEMBER_TYPE = 1;
const TOPICS_NOT_AUTHORIZED = 'The group has described topic(s) that the client is not authorized to describe.';

/** A group answered with an error alone. */
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

export const consumerGroupDescribeHandler = defineHandler({
  apiKey: 69,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const { groups, topics } = ctx.broker;
    const assignmentOf = (a: Assignment) => ({
      topicPartitions: [...a].map(([topicId, partitions]) => ({
        topicId,
        topicName: topics.getById(topicId)?.name ?? '',
        partitions: [...partitions].sort((x, y) => x - y),
      })),
    });
    const denied = request.groupIds.filter((groupId) => !authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId));
    const allowed = request.groupIds.filter((groupId) => !denied.includes(groupId));
    const described = allowed.map((groupId) => {
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
          assignment: assignmentOf(m.assignment),
          targetAssignment: assignmentOf(m.targetAssignment),
          memberType: CONSUMER_MEMBER_TYPE,
        })),
        authorizedOperations:
          request.includeAuthorizedOperations && g.errorCode === ErrorCode.NONE
            ? authorizedOperations(ctx, ResourceType.GROUP, g.groupId)
            : AUTHORIZED_OPERATIONS_OMITTED,
      };
    });
    const answered = [...denied.map((groupId) => failedGroup(groupId, ErrorCode.GROUP_AUTHORIZATION_FAILED, null)), ...described];
    if (ctx.broker.authorizer === null) return { throttleTimeMs: 0, groups: answered };
    // Clients may not see topics they may not DESCRIBE: each topic named is checked once.
    const visible = new Map<string, boolean>();
    const mayDescribe = (name: string) => {
      let ok = visible.get(name);
      if (ok === undefined) visible.set(name, (ok = authorize(ctx, AclOperation.DESCRIBE, ResourceType.TOPIC, name)));
      return ok;
    };
    return {
      throttleTimeMs: 0,
      groups: answered.map((g) =>
        g.members.some((m) => [m.assignment, m.targetAssignment].some((a) => a.topicPartitions.some((tp) => !mayDescribe(tp.topicName))))
          ? failedGroup(g.groupId, ErrorCode.TOPIC_AUTHORIZATION_FAILED, TOPICS_NOT_AUTHORIZED)
          : g,
      ),
    };
  },
});

// DescribeGroups (key 15).
// Behavior: state, protocol type, members (client id, "/host") of each group; member metadata
// and assignment bytes and the selected protocol only while the group is Stable, as Kafka shows
// them. A group unknown here is described as Dead with no error (Kafka before v6). A group the
// principal may not DESCRIBE is GROUP_AUTHORIZATION_FAILED (Kafka). Authorized operations (v3+,
// when asked) come from the authorizer; without one, READ, DELETE and DESCRIBE.
// Version notes: served v0–5. v1 throttle time; v3 includeAuthorizedOperations /
// authorizedOperations; v4 groupInstanceId per member; v5+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, authorizedOperations, AUTHORIZED_OPERATIONS_OMITTED, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const describeGroupsHandler = defineHandler({
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const withOperations = request.includeAuthorizedOperations === true;
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => {
        if (!authorize(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
          return {
            errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
            groupId,
            groupState: '',
            protocolType: '',
            protocolData: '',
            members: [],
            authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
          };
        }
        const ops = withOperations ? authorizedOperations(ctx, ResourceType.GROUP, groupId) : AUTHORIZED_OPERATIONS_OMITTED;
        return { ...ctx.broker.groups.describeGroup(groupId), authorizedOperations: ops };
      }),
    };
  },
});

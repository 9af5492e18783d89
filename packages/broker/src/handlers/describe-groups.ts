// DescribeGroups (key 15).
// Behavior: state, protocol type, members (client id, "/host") of each group; member metadata
// and assignment bytes and the selected protocol only while the group is Stable, as Kafka shows
// them. A group unknown here is described as Dead with no error (Kafka before v6). Without an
// authorizer every operation on a group is allowed, so the requested authorized operations are
// READ, DELETE and DESCRIBE.
// Version notes: served v0–5. v1 throttle time; v3 includeAuthorizedOperations /
// authorizedOperations; v4 groupInstanceId per member; v5+ flexible.

import { defineHandler } from './handler.ts';

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;
// Kafka's AclOperation codes READ = 3, DELETE = 6, DESCRIBE = 8, as a 32-bit field.
const GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

export const describeGroupsHandler = defineHandler({
  apiKey: 15,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const authorizedOperations = request.includeAuthorizedOperations === true ? GROUP_OPERATIONS : AUTHORIZED_OPERATIONS_OMITTED;
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => ({ ...ctx.broker.groups.describeGroup(groupId), authorizedOperations })),
    };
  },
});

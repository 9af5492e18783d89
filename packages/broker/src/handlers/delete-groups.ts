// DeleteGroups (key 42).
// Behavior: deletes each Empty group and all its committed offsets (tombstones in the offsets
// log, answered once durable); a group with members is NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND. Results in request order. A share group (KIP-932) is deleted by the share
// coordinator: with its share-partition state and group configs, once it has no members.
// Version notes: served v0–2. v1 changes only throttling; v2+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const deleteGroupsHandler = defineHandler({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    // Kafka: DELETE on each group; the others are deleted.
    const allowed = request.groupsNames.filter((g) => authorize(ctx, AclOperation.DELETE, ResourceType.GROUP, g));
    // Share groups are the share coordinator's; every other id goes to the group coordinator.
    const share = ctx.broker.share;
    const shareIds = allowed.filter((g) => share.isShareGroup(g));
    const shareResults = await Promise.all(
      shareIds.map(async (groupId) => ({ groupId, errorCode: (await share.deleteGroup(groupId)) ? ErrorCode.NONE : ErrorCode.NON_EMPTY_GROUP })),
    );
    const deleted = [...shareResults, ...(await ctx.broker.groups.deleteGroups(allowed.filter((g) => !shareIds.includes(g))))];
    const results = request.groupsNames.map(
      (groupId) => deleted.find((r) => r.groupId === groupId) ?? { groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED },
    );
    return { throttleTimeMs: 0, results };
  },
});

// ListGroups (key 16).
// Behavior: every group this broker coordinates (all of them), with its protocol type ("" for a
// group that only stores offsets) and, from v4, its state.
// Version notes: served v0–4. v1 throttle time; v3+ flexible; v4 statesFilter in the request
// (case-insensitive; empty = all) and groupState in the response.

import { AclOperation, authorizeQuietly, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const listGroupsHandler = defineHandler({
  apiKey: 16,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    const statesFilter = ctx.header.apiVersion >= 4 ? (request.statesFilter ?? []) : [];
    const groups = ctx.broker.groups.listGroups(statesFilter);
    // Kafka: DESCRIBE on the cluster lists every group; otherwise only those the principal may DESCRIBE.
    if (authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) return { throttleTimeMs: 0, errorCode: 0, groups };
    return { throttleTimeMs: 0, errorCode: 0, groups: groups.filter((g) => authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)) };
  },
});

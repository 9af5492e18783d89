// DeleteGroups (key 42).
// Behavior: deletes each Empty group and all its committed offsets (tombstones in the offsets
// log, answered once durable); a group with members is NON_EMPTY_GROUP, an unknown one
// GROUP_ID_NOT_FOUND. Results in request order.
// Version notes: served v0–2. v1 changes only throttling; v2+ flexible.

import { defineHandler } from './handler.ts';

export const deleteGroupsHandler = defineHandler({
  apiKey: 42,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const results = await ctx.broker.groups.deleteGroups(request.groupsNames);
    return { throttleTimeMs: 0, results };
  },
});

// ListGroups (key 16).
// Behavior: every group this broker coordinates (all of them), with its protocol type ("" for a
// group that only stores offsets, "consumer" for a KIP-848 consumer group, "share" for a KIP-932
// share group), from v4 its state and from v5 its type (classic, consumer or share).
// Version notes: served v0–5. v1 throttle time; v3+ flexible; v4 statesFilter in the request
// (case-insensitive; empty = all) and groupState in the response; v5 typesFilter in the request
// (case-insensitive; empty = all) and groupType in the response.

import { AclOperation, authorizeQuietly, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const listGroupsHandler = defineHandler({
  apiKey: 16,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const statesFilter = ctx.header.apiVersion >= 4 ? (request.statesFilter ?? []) : [];
    const typesFilter = ctx.header.apiVersion >= 5 ? (request.typesFilter ?? []) : [];
    const listed: Array<{ groupId: string; protocolType: string; groupState: string; groupType?: string }> = ctx.broker.groups.listGroups(
      statesFilter,
      typesFilter,
    );
    // Share groups (KIP-932) are the share coordinator's: protocol type and group type "share".
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    const states = new Set(statesFilter.map((s) => s.toLowerCase()));
    if (types.size === 0 || types.has('share')) {
      for (const g of ctx.broker.share.listGroups()) {
        if (states.size === 0 || states.has(g.groupState.toLowerCase()))
          listed.push({ groupId: g.groupId, protocolType: 'share', groupState: g.groupState, groupType: 'share' });
      }
    }
    const all = ctx.header.apiVersion >= 5 ? listed.map((g) => ({ ...g, groupType: g.groupType ?? 'classic' })) : listed;
    // Kafka: DESCRIBE on the cluster lists every group; otherwise only those the principal may DESCRIBE.
    if (authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_NAME)) return { throttleTimeMs: 0, errorCode: 0, groups: all };
    return { throttleTimeMs: 0, errorCode: 0, groups: all.filter((g) => authorizeQuietly(ctx, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)) };
  },
});

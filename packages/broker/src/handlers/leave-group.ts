// LeaveGroup (key 13).
// Behavior: removes members from a group (a rebalance follows for the rest). Members may be
// named by member id, or by group instance id alone with an empty member id (administrative
// removal of a static member).
// Version notes: served v0–5. v0–2 carry one memberId and answer a single error code (the
// first member error, as Kafka reports it); v1 throttle time; v3 batches members with a
// per-member error; v4+ flexible; v5 per-member reason.

import type { LeavingMember } from '../groups/types.ts';
import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const leaveGroupHandler = defineHandler({
  apiKey: 13,
  minVersion: 0,
  maxVersion: 5,
  handle(ctx, request) {
    const version = ctx.header.apiVersion;
    // Kafka: READ on the group; the whole request fails.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId))
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const leaving: LeavingMember[] =
      version >= 3
        ? (request.members ?? []).map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId ?? null,
            reason: m.reason ?? null,
          }))
        : [{ memberId: request.memberId ?? '', groupInstanceId: null, reason: null }];
    const result = ctx.broker.groups.leaveGroup(request.groupId, leaving);
    if (version >= 3) return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
    const memberError = result.members.find((m) => m.errorCode !== 0)?.errorCode ?? 0;
    return { throttleTimeMs: 0, errorCode: result.errorCode !== 0 ? result.errorCode : memberError };
  },
});

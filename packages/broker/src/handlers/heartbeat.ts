// Heartbeat (key 12).
// Behavior: keeps a member's session alive; tells it to rejoin (REBALANCE_IN_PROGRESS), that its
// generation is stale (ILLEGAL_GENERATION), that it is not a member (UNKNOWN_MEMBER_ID) or that a
// newer instance replaced it (FENCED_INSTANCE_ID). Answered at once.
// Version notes: served v0–4. v1 throttle time; v3 groupInstanceId; v4+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const heartbeatHandler = defineHandler({
  apiKey: 12,
  minVersion: 0,
  maxVersion: 4,
  handle(ctx, request) {
    // Kafka: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const errorCode = ctx.broker.groups.heartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
    });
    return { throttleTimeMs: 0, errorCode };
  },
});

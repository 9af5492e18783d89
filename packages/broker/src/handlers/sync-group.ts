// SyncGroup (key 14).
// Behavior: hands the request to the group coordinator; followers wait until the leader's
// assignment is stored, then each member receives exactly the bytes the leader assigned it.
// Version notes: served v0–5. v1 throttle time; v3 groupInstanceId; v4+ flexible; v5 carries
// protocolType/protocolName, which must then be present (else INCONSISTENT_GROUP_PROTOCOL, as
// Kafka checks) and equal the group's.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const syncGroupHandler = defineHandler({
  apiKey: 14,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const version = ctx.header.apiVersion;
    const protocolType: string | null = request.protocolType ?? null;
    const protocolName: string | null = request.protocolName ?? null;
    // Kafka: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
    }
    if (version >= 5 && (protocolType === null || protocolName === null)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INCONSISTENT_GROUP_PROTOCOL, protocolType: null, protocolName: null, assignment: new Uint8Array(0) };
    }
    const result = await ctx.broker.groups.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      protocolType,
      protocolName,
      assignments: request.assignments,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
});

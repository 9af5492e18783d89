// JoinGroup (key 11).
// Behavior: hands the request to the group coordinator (groups/coordinator.ts), which parks it
// until the join phase completes; the answer carries the generation, the selected protocol, the
// leader and — for the leader only — every member's metadata, byte-exact. The member's client
// id and address (as Kafka prints it, "/127.0.0.1") are recorded for DescribeGroups.
// Version notes: served v2–9 (Kafka 4 dropped v0–1). v4+ a member without an id is answered
// MEMBER_ID_REQUIRED with the id to rejoin with; v5 static membership (groupInstanceId); v6+
// flexible; v7 returns protocolType and makes protocolName nullable (earlier versions get "");
// v8 join reason; v9 skipAssignment for a rejoining static leader.

import { ErrorCode } from '@sluice/protocol';
import type { JoinGroupInput } from '../groups/types.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const joinGroupHandler = defineHandler({
  apiKey: 11,
  minVersion: 2,
  maxVersion: 9,
  async handle(ctx, request) {
    const version = ctx.header.apiVersion;
    // Kafka: READ on the group.
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) {
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED,
        generationId: -1,
        protocolType: null,
        protocolName: version >= 7 ? null : '',
        leader: '',
        skipAssignment: false,
        memberId: request.memberId,
        members: [],
      };
    }
    const input: JoinGroupInput = {
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      // Copies: the decoded bytes are views into the request frame, and the group keeps them.
      protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata.slice() })),
      clientId: ctx.header.clientId ?? '',
      clientHost: `/${ctx.connection.remoteAddress}`,
      reason: request.reason ?? null,
      requireKnownMemberId: version >= 4,
      supportSkippingAssignment: version >= 9,
    };
    const result = await ctx.broker.groups.joinGroup(input);
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      protocolName: version >= 7 ? result.protocolName : (result.protocolName ?? ''),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata })),
    };
  },
});

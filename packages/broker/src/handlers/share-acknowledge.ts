// ShareAcknowledge (key 79), KIP-932.
// Behavior: a share-group member acknowledges records it acquired by ShareFetch — ACCEPT,
// RELEASE, REJECT, GAP, and (v2) RENEW — without fetching. It uses the member's share session
// (the epoch must be the session's next one; -1 closes the session after the acknowledgements,
// releasing what the member still holds; 0 is INVALID_SHARE_SESSION_EPOCH). Each partition is
// acknowledged all or nothing and answered once its new state is durable: INVALID_RECORD_STATE
// for records not acquired by this member (or no longer: its lock expired), INVALID_REQUEST for
// malformed batches, TOPIC_AUTHORIZATION_FAILED without READ on the topic.
// Version notes: served v1-2 (flexible); v0 (Kafka 4.0 early access) is refused. v2 adds
// IsRenewAck and AcquisitionLockTimeoutMs in the answer.

import { ErrorCode } from '@sluice/protocol';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { ackRequests, byTopic, leaderOf, mayRead, topLevelError } from './share-fetch.ts';

export const shareAcknowledgeHandler = defineHandler({
  apiKey: 79,
  minVersion: 1,
  maxVersion: 2,
  async handle(ctx, request) {
    const { broker } = ctx;
    const groupId = request.groupId ?? '';
    const memberId = request.memberId ?? '';
    if (groupId === '' || memberId === '') return topLevelError(ErrorCode.INVALID_REQUEST, 'GroupId and MemberId must be set');
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, groupId)) return topLevelError(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const all = ackRequests(request.topics);
    const denied = all.filter((p) => !mayRead(ctx, p.topicId));
    const outcome = broker.share.session({
      groupId,
      memberId,
      epoch: request.shareSessionEpoch,
      partitions: all.filter((p) => !denied.includes(p)),
      forgotten: [],
      isFetch: false,
      connectionId: ctx.connection.id,
    });
    if (outcome.errorCode !== 0 || !('acks' in outcome)) return topLevelError(outcome.errorCode, 'errorMessage' in outcome ? outcome.errorMessage : null);
    const acks = await outcome.acks;
    const results = [...denied.map((p) => ({ ...p, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null })), ...acks];
    return {
      throttleTimeMs: 0,
      errorCode: 0,
      errorMessage: null,
      acquisitionLockTimeoutMs: broker.share.lockDurationMs(groupId),
      responses: byTopic(results, (r) => ({
        partitionIndex: r.partition,
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        currentLeader: leaderOf(broker, r),
      })),
      nodeEndpoints: [],
    };
  },
});

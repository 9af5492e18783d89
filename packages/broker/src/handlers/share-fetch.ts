// ShareFetch (key 78), KIP-932.
// Behavior: a share-group member's fetch. The request moves the member's share session (epoch 0
// opens it over the partitions named, later epochs add `topics` and drop `forgottenTopicsData`,
// -1 closes it; share/share-coordinator.ts), applies the piggy-backed acknowledgements of each
// partition named (ACCEPT/RELEASE/REJECT/GAP, v2 RENEW) and then acquires up to MaxRecords
// records (about MaxBytes) from the session's partitions, each locked to this member for
// group.share.record.lock.duration.ms (AcquisitionLockTimeoutMs). The records go out as whole
// batches with the acquired offset ranges and their delivery counts; the client keeps only the
// acquired offsets. With nothing to acquire and no acknowledgement, the request waits up to
// MaxWaitMs for records to arrive or be released (the delayed-fetch purgatory, per partition).
// Errors: top level INVALID_REQUEST (no group or member id; acks on a new session; fetch limits
// set on a renew-only request), SHARE_SESSION_NOT_FOUND, INVALID_SHARE_SESSION_EPOCH,
// GROUP_AUTHORIZATION_FAILED (READ on the group); per partition UNKNOWN_TOPIC_ID,
// TOPIC_AUTHORIZATION_FAILED (READ on the topic) and AcknowledgeErrorCode INVALID_RECORD_STATE.
// Records are copied out of the log (zero-copy needs the acquired range's last offset, which the
// native read does not report yet).
// Version notes: served v1-2 (flexible). v0 (Kafka 4.0 early access) is refused as Kafka 4.1
// does. v2 adds ShareAcquireMode (record-limit mode is what this broker always does: never more
// than MaxRecords acquired) and IsRenewAck (a renew-only request: no fetch, MaxBytes, MinBytes,
// MaxRecords and MaxWaitMs must be 0).

import { ErrorCode, type ShareFetchRequest, type ShareFetchResponse } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { ShareAckRequest, ShareAckResult, SharePartitionFetch, SharePartitionRef } from '../share/share-coordinator.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler, type RequestContext } from './handler.ts';

const DEFAULT_MAX_RECORDS = 500;
const EMPTY = new Uint8Array(0);

type PartitionResponse = ShareFetchResponse['responses'][number]['partitions'][number];

export function topLevelError(errorCode: number, errorMessage: string | null, acquisitionLockTimeoutMs = 0) {
  return { throttleTimeMs: 0, errorCode, errorMessage, acquisitionLockTimeoutMs, responses: [], nodeEndpoints: [] };
}

/** The request's partitions with their acknowledgements. */
export function ackRequests(topics: ShareFetchRequest['topics']): ShareAckRequest[] {
  return topics.flatMap((t) =>
    t.partitions.map((p) => ({
      topicId: t.topicId,
      partition: p.partitionIndex,
      batches: p.acknowledgementBatches.map((b) => ({ firstOffset: b.firstOffset, lastOffset: b.lastOffset, acknowledgeTypes: b.acknowledgeTypes })),
    })),
  );
}

/** Whether the principal may READ the topic behind `topicId` (unknown ids pass: they fail later). */
export function mayRead(ctx: RequestContext, topicId: string): boolean {
  const name = ctx.broker.topics.getById(topicId)?.name;
  return name === undefined || authorize(ctx, AclOperation.READ, ResourceType.TOPIC, name);
}

/** Groups per-partition results by topic id, in first-seen order. */
export function byTopic<T extends SharePartitionRef, P>(items: readonly T[], toPartition: (item: T) => P): Array<{ topicId: string; partitions: P[] }> {
  const topics = new Map<string, P[]>();
  for (const item of items) {
    let list = topics.get(item.topicId);
    if (list === undefined) topics.set(item.topicId, (list = []));
    list.push(toPartition(item));
  }
  return [...topics].map(([topicId, partitions]) => ({ topicId, partitions }));
}

export function leaderOf(broker: BrokerContext, ref: SharePartitionRef) {
  const partition = broker.topics.getById(ref.topicId)?.partitions[ref.partition];
  return { leaderId: partition === undefined ? -1 : broker.nodeId, leaderEpoch: partition?.leaderEpoch ?? -1 };
}

function answer(
  ctx: RequestContext,
  groupId: string,
  acks: readonly ShareAckResult[],
  fetched: readonly SharePartitionFetch[],
  denied: readonly SharePartitionRef[],
) {
  const broker = ctx.broker;
  type Entry = SharePartitionRef & { ack?: ShareAckResult; fetch?: SharePartitionFetch; denied?: boolean };
  const entries = new Map<string, Entry>();
  const entry = (ref: SharePartitionRef) => {
    const key = `${ref.topicId}:${ref.partition}`;
    let e = entries.get(key);
    if (e === undefined) entries.set(key, (e = { topicId: ref.topicId, partition: ref.partition }));
    return e;
  };
  for (const a of acks) entry(a).ack = a;
  for (const f of fetched) entry(f).fetch = f;
  for (const d of denied) entry(d).denied = true;
  const responses = byTopic(
    [...entries.values()],
    (e): PartitionResponse => ({
      partitionIndex: e.partition,
      errorCode: e.denied ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : (e.fetch?.errorCode ?? 0),
      errorMessage: null,
      acknowledgeErrorCode: e.ack?.errorCode ?? 0,
      acknowledgeErrorMessage: e.ack?.errorMessage ?? null,
      currentLeader: leaderOf(broker, e),
      records: e.fetch?.records ?? EMPTY,
      acquiredRecords: (e.fetch?.acquired ?? []).map((r) => ({ firstOffset: r.firstOffset, lastOffset: r.lastOffset, deliveryCount: r.deliveryCount })),
    }),
  );
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, acquisitionLockTimeoutMs: broker.share.lockDurationMs(groupId), responses, nodeEndpoints: [] };
}

export const shareFetchHandler = defineHandler({
  apiKey: 78,
  minVersion: 1,
  maxVersion: 2,
  async handle(ctx, request) {
    const { broker } = ctx;
    const share = broker.share;
    const groupId = request.groupId ?? '';
    const memberId = request.memberId ?? '';
    if (groupId === '' || memberId === '') return topLevelError(ErrorCode.INVALID_REQUEST, 'GroupId and MemberId must be set');
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, groupId)) return topLevelError(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const renewOnly = request.isRenewAck === true;
    if (renewOnly && (request.maxBytes !== 0 || request.minBytes !== 0 || request.maxRecords !== 0 || request.maxWaitMs !== 0)) {
      return topLevelError(ErrorCode.INVALID_REQUEST, 'fetch parameters must be 0 on a renew acknowledgement');
    }
    const all = ackRequests(request.topics);
    const denied = all.filter((p) => !mayRead(ctx, p.topicId));
    const deniedKeys = new Set(denied.map((p) => `${p.topicId}:${p.partition}`));
    const outcome = share.session({
      groupId,
      memberId,
      epoch: request.shareSessionEpoch,
      partitions: all.filter((p) => !deniedKeys.has(`${p.topicId}:${p.partition}`)),
      forgotten: request.forgottenTopicsData.flatMap((t) => t.partitions.map((partition) => ({ topicId: t.topicId, partition }))),
      isFetch: true,
      connectionId: ctx.connection.id,
    });
    if (outcome.errorCode !== 0 || !('acks' in outcome)) return topLevelError(outcome.errorCode, 'errorMessage' in outcome ? outcome.errorMessage : null);
    const acks = await outcome.acks;
    if (renewOnly || outcome.fetchFrom.length === 0) return answer(ctx, groupId, acks, [], denied);
    const maxRecords = request.maxRecords > 0 ? request.maxRecords : DEFAULT_MAX_RECORDS;
    const acquire = () => share.acquire(groupId, memberId, outcome.fetchFrom, maxRecords, request.maxBytes);
    const fetched = acquire();
    const gotRecords = (f: readonly SharePartitionFetch[]) => f.some((p) => p.acquired.length > 0 || p.errorCode !== 0);
    if (gotRecords(fetched) || acks.length > 0 || request.maxWaitMs <= 0) return answer(ctx, groupId, acks, fetched, denied);
    return new Promise((resolve) => {
      let ready: SharePartitionFetch[] = fetched;
      broker.delayedFetches.watch(
        {
          tryComplete() {
            ready = acquire();
            return gotRecords(ready);
          },
          onComplete() {
            resolve(answer(ctx, groupId, acks, ready, denied));
          },
        },
        share.partitionsFor(outcome.fetchFrom),
        request.maxWaitMs,
      );
    });
  },
});

// TxnOffsetCommit (key 28).
// Behavior: offsets committed inside a transaction (a consume-transform-produce loop's
// sendOffsetsToTransaction). Partitions of topics that do not exist (in the cluster:
// known-partitions.ts) answer UNKNOWN_TOPIC_OR_PARTITION; the rest go to the group coordinator: the group checks of KIP-447
// (a given member id must be a member: UNKNOWN_MEMBER_ID; a given generation must be current:
// ILLEGAL_GENERATION; a static member of another instance: FENCED_INSTANCE_ID — unset fields
// are not checked), then the transaction coordinator's verification that the group's
// `__consumer_offsets` partition is in the producer's transaction (AddOffsetsToTxn came first;
// else TRANSACTION_ABORTABLE), then one transactional batch appended to that partition. The
// offsets are pending until the transaction's COMMIT marker (applied) or ABORT (dropped);
// OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT meanwhile.
// Authorization (KafkaApis): WRITE on the transactional id and READ on the group, else every
// partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED / GROUP_AUTHORIZATION_FAILED; READ on each topic,
// else TOPIC_AUTHORIZATION_FAILED for its partitions.
// Version notes: served v0–5. v2 committedLeaderEpoch; v3 generationId/memberId/groupInstanceId
// (KIP-447) and flexible; v4 TRANSACTION_ABORTABLE (older: INVALID_TXN_STATE); PRODUCER_FENCED
// is INVALID_PRODUCER_EPOCH at every version. v5 is transaction.version 2 (the partition would be
// added implicitly); with the broker's transaction.version 1 it is verified as v4.

import { ApiKey, ErrorCode } from '@sluice/protocol';
import { OFFSETS_TOPIC } from '../groups/partitioning.ts';
import type { OffsetToCommit } from '../groups/types.ts';
import { errorForVersion } from '../transactions/versioned-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { partitionExists } from './known-partitions.ts';

type Slot = { readonly errorCode: number } | { readonly index: number };

export const txnOffsetCommitHandler = defineHandler({
  apiKey: 28,
  minVersion: 0,
  maxVersion: 5,
  async handle(ctx, request) {
    const { broker, header } = ctx;
    const version = header.apiVersion;
    const all = (errorCode: number) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode })) })),
    });
    if (!authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, request.transactionalId))
      return all(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!authorize(ctx, AclOperation.READ, ResourceType.GROUP, request.groupId)) return all(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const offsets: OffsetToCommit[] = [];
    const slots = request.topics.map((t) => {
      const allowed = authorize(ctx, AclOperation.READ, ResourceType.TOPIC, t.name);
      return t.partitions.map((p): Slot => {
        if (!allowed) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
        if (!partitionExists(broker, t.name, p.partitionIndex)) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        offsets.push({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata: p.committedMetadata,
        });
        return { index: offsets.length - 1 };
      });
    });
    const input = {
      groupId: request.groupId,
      producerId: request.producerId,
      producerEpoch: request.producerEpoch,
      generationId: request.generationId ?? -1,
      memberId: request.memberId ?? '',
      groupInstanceId: request.groupInstanceId ?? null,
      offsets,
    };
    const verify = (): number => {
      const [verified] = broker.transactions.verifyPartitions({
        transactionalId: request.transactionalId,
        producerId: request.producerId,
        producerEpoch: request.producerEpoch,
        partitions: [{ topic: OFFSETS_TOPIC, partition: broker.groups.partitionFor(request.groupId) }],
      });
      // Cluster mode: the transaction coordinator is another broker; taken unverified, as Produce does.
      if (verified.errorCode === ErrorCode.NOT_COORDINATOR && broker.cluster !== null) return ErrorCode.NONE;
      return verified.errorCode;
    };
    const errors = offsets.length === 0 ? [] : await broker.groups.commitTransactionalOffsets(input, verify);
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t, ti) => ({
        name: t.name,
        partitions: t.partitions.map((p, pi) => {
          const slot = slots[ti][pi];
          const code = 'errorCode' in slot ? slot.errorCode : errors[slot.index];
          return { partitionIndex: p.partitionIndex, errorCode: errorForVersion(ApiKey.TxnOffsetCommit, version, code) };
        }),
      })),
    };
  },
});

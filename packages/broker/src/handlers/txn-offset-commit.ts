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
// Cluster mode: with the transaction coordinator on another broker the verification is
// AddPartitionsToTxn VerifyOnly to it under a guard on the offsets partition (as Produce's,
// produce-verification.ts), skipped when that partition already has the producer's ongoing
// transaction; its retriable errors are COORDINATOR_NOT_AVAILABLE, as Kafka's group coordinator
// answers them.

import { ApiKey, ErrorCode } from '@sluice/protocol';
import { OFFSETS_TOPIC } from '../groups/partitioning.ts';
import type { OffsetToCommit } from '../groups/types.ts';
import { errorForVersion } from '../transactions/versioned-errors.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';
import { partitionExists } from './known-partitions.ts';
import { isPending, type PendingVerification, type Verdict, verifyRemotely } from './produce-verification.ts';

/** The coordinator's code for a TxnOffsetCommit (Kafka's group coordinator: retriable → COORDINATOR_NOT_AVAILABLE). */
function offsetCommitVerificationError(code: number): Verdict {
  switch (code) {
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.NETWORK_EXCEPTION:
      return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, message: null };
    default:
      return { errorCode: code, message: null };
  }
}

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
    /** The response: each partition's slot error, or its offset's code from `errors`. */
    const answer = (errors: readonly number[]) => ({
      throttleTimeMs: 0,
      topics: request.topics.map((t, ti) => ({
        name: t.name,
        partitions: t.partitions.map((p, pi) => {
          const slot = slots[ti][pi];
          const code = 'errorCode' in slot ? slot.errorCode : errors[slot.index];
          return { partitionIndex: p.partitionIndex, errorCode: errorForVersion(ApiKey.TxnOffsetCommit, version, code) };
        }),
      })),
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
    const offsetsTp = { topic: OFFSETS_TOPIC, partition: broker.groups.partitionFor(request.groupId) };
    const txn = { transactionalId: request.transactionalId, producerId: request.producerId, producerEpoch: request.producerEpoch, partitions: [offsetsTp] };
    // Cluster mode, the transaction coordinator on another broker: asked first (KIP-890, as for
    // Produce, under a guard on the offsets partition), its retriable errors answered
    // COORDINATOR_NOT_AVAILABLE as Kafka's group coordinator does; the guard is checked again
    // right before the append (the `verify` hook).
    let remote: PendingVerification | null = null;
    const offsetsPartition = broker.topics.get(OFFSETS_TOPIC)?.partitions[offsetsTp.partition];
    if (offsets.length > 0 && broker.cluster !== null && offsetsPartition !== undefined) {
      const [local] = broker.transactions.verifyPartitions(txn);
      if (local.errorCode === ErrorCode.NOT_COORDINATOR && !offsetsPartition.hasOngoingTransaction(request.producerId, request.producerEpoch)) {
        const started = verifyRemotely(broker, offsetsPartition, txn, offsetCommitVerificationError, {
          errorCode: ErrorCode.TRANSACTION_ABORTABLE,
          message: null,
        });
        if (!isPending(started)) return answer(offsets.map(() => started.errorCode));
        const verdict = await started.answer;
        if (verdict.errorCode !== ErrorCode.NONE) {
          started.release();
          return answer(offsets.map(() => verdict.errorCode));
        }
        remote = started;
      }
    }
    const verify = (): number => {
      if (remote !== null) return remote.admit().errorCode;
      const [verified] = broker.transactions.verifyPartitions(txn);
      if (verified.errorCode !== ErrorCode.NOT_COORDINATOR || broker.cluster === null) return verified.errorCode;
      // The coordinator is elsewhere: a transaction open in the offsets partition was verified by
      // its first batch; otherwise it moved away during the group's checks (the client retries).
      return offsetsPartition?.hasOngoingTransaction(request.producerId, request.producerEpoch) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    };
    let errors: number[];
    try {
      errors = offsets.length === 0 ? [] : await broker.groups.commitTransactionalOffsets(input, verify);
    } finally {
      remote?.release();
    }
    return answer(errors);
  },
});

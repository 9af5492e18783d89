// Produce's check of transactional batches (KIP-890 part 1, Kafka's ReplicaManager
// appendRecordsWithTransactionVerification): a transactional batch is appended only when its
// partition is in the producer's ongoing transaction at the transactional id's coordinator.
//
// - The coordinator is this broker (always on a single node): asked synchronously, so the check
//   and the native append are one synchronous step and no marker can land between them.
// - Cluster mode, the coordinator is another broker: if this partition already has the
//   producer's ongoing transaction in this epoch the batch joins it unasked (Kafka skips the
//   verification then: the coordinator checked the first batch). Otherwise a verification guard
//   is taken on the partition (Partition.holdVerificationGuard), the coordinator is asked with
//   AddPartitionsToTxn VerifyOnly (transactions/remote-verification.ts), and after the answer the
//   append goes ahead only if the guard still holds — a marker for the producer (its transaction
//   ended meanwhile) or a new leadership ends it, and the late batch is refused as not in a
//   transaction — or the transaction is now open here (a concurrent batch opened it).
//
// Errors as Kafka maps them for the produce response: PRODUCER_FENCED is INVALID_PRODUCER_EPOCH;
// TRANSACTION_ABORTABLE (not in the transaction, or the guard gone) is INVALID_TXN_STATE before
// v11; the retriable CONCURRENT_TRANSACTIONS, COORDINATOR_LOAD_IN_PROGRESS,
// COORDINATOR_NOT_AVAILABLE, NOT_COORDINATOR and NETWORK_EXCEPTION (the coordinator unreachable)
// become NOT_ENOUGH_REPLICAS, which every client's produce retries without a metadata refresh.

import { ApiKey, ErrorCode, errorByCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { Partition, VerificationGuard } from '../partition.ts';
import { transactionPartition } from '../transactions/transaction-log.ts';
import { TRANSACTION_STATE_TOPIC } from '../transactions/transaction-state-log.ts';
import type { TxnPartitionsInput } from '../transactions/coordinator.ts';
import { errorForVersion } from '../transactions/versioned-errors.ts';

/** RecordBatch v2 header: attributes (int16) at 21, producerId (int64) at 43, producerEpoch (int16) at 51. */
const ATTRIBUTES_AT = 21;
const PRODUCER_ID_AT = 43;
const PRODUCER_EPOCH_AT = 51;
const TRANSACTIONAL = 0x10;

export interface Verdict {
  readonly errorCode: number;
  readonly message: string | null;
}

const ACCEPTED: Verdict = { errorCode: ErrorCode.NONE, message: null };

/** A verification with a coordinator on another broker, under way. */
export interface PendingVerification {
  /** The coordinator's answer, mapped for the produce response. */
  readonly answer: Promise<Verdict>;
  /**
   * Right before the append, in the same synchronous step: NONE when the guard still holds (or
   * the transaction is open here now), else the refusal. Releases the guard.
   */
  admit(): Verdict;
  /** The batch will not be appended (refused before admit()): releases the guard. */
  release(): void;
}

/** The coordinator's code for a transactional batch, as Kafka's produce response carries it. */
export function produceVerificationError(version: number, code: number, topic: string, partition: number): Verdict {
  switch (code) {
    case ErrorCode.NONE:
      return ACCEPTED;
    case ErrorCode.CONCURRENT_TRANSACTIONS:
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
    case ErrorCode.NOT_COORDINATOR:
    case ErrorCode.NETWORK_EXCEPTION:
      return {
        errorCode: ErrorCode.NOT_ENOUGH_REPLICAS,
        message: `Unable to verify the partition has been added to the transaction. Underlying error: ${errorByCode(code)?.name ?? code}`,
      };
    case ErrorCode.TRANSACTION_ABORTABLE:
      return { errorCode: errorForVersion(ApiKey.Produce, version, code), message: `${topic}-${partition} is not in the producer's ongoing transaction` };
    case ErrorCode.INVALID_TXN_STATE:
      return { errorCode: code, message: 'Partition was not added to the transaction' };
    default:
      return { errorCode: errorForVersion(ApiKey.Produce, version, code), message: null };
  }
}

/**
 * NONE for a batch that is not transactional or may be appended now; a refusal; or, in cluster
 * mode with the coordinator elsewhere, a pending verification.
 */
export function verifyTransactional(
  broker: BrokerContext,
  version: number,
  transactionalId: string | null,
  partition: Partition,
  batch: Uint8Array,
): Verdict | PendingVerification {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  if ((view.getInt16(ATTRIBUTES_AT) & TRANSACTIONAL) === 0) return ACCEPTED;
  if (transactionalId === null) return { errorCode: ErrorCode.INVALID_TXN_STATE, message: "a transactional batch needs the request's transactional id" };
  const producerId = Number(view.getBigInt64(PRODUCER_ID_AT));
  const producerEpoch = view.getInt16(PRODUCER_EPOCH_AT);
  const topic = partition.topic.name;
  const tp = { topic, partition: partition.index };
  const input = { transactionalId, producerId, producerEpoch, partitions: [tp] };
  const [local] = broker.transactions.verifyPartitions(input);
  const cluster = broker.cluster;
  if (local.errorCode !== ErrorCode.NOT_COORDINATOR || cluster === null) return produceVerificationError(version, local.errorCode, topic, partition.index);
  // The coordinator is another broker. A transaction already open here was verified by its first batch.
  if (partition.hasOngoingTransaction(producerId, producerEpoch)) return ACCEPTED;
  return verifyRemotely(broker, partition, input, (code) => produceVerificationError(version, code, topic, partition.index), {
    errorCode: errorForVersion(ApiKey.Produce, version, ErrorCode.TRANSACTION_ABORTABLE),
    message: `the producer's transaction on ${topic}-${partition.index} ended while the batch was being verified`,
  });
}

/**
 * Cluster mode: verifies `input` (one partition, `partition`, led here) with the transactional
 * id's coordinator on another broker under a verification guard. `mapped` turns the
 * coordinator's code into the caller's answer; `ended` is the answer when the guard no longer
 * holds at admit() (Kafka's InvalidTxnStateException from the log: the transaction ended while
 * the batch was verified). Also used by TxnOffsetCommit for the group's offsets partition.
 */
export function verifyRemotely(
  broker: BrokerContext,
  partition: Partition,
  input: TxnPartitionsInput,
  mapped: (code: number) => Verdict,
  ended: Verdict,
): Verdict | PendingVerification {
  const cluster = broker.cluster;
  if (cluster === null) throw new Error('BUG: remote transaction verification on a single node');
  const { transactionalId, producerId, producerEpoch } = input;
  const count = cluster.view.topics.get(TRANSACTION_STATE_TOPIC)?.record.replicas.length ?? 0;
  const leader = count === 0 ? -1 : cluster.currentLeader(TRANSACTION_STATE_TOPIC, transactionPartition(transactionalId, count)).leaderId;
  // No leader, or this broker about to load the id's partition: not known yet; the producer retries.
  const coordinator = leader < 0 || leader === broker.nodeId ? null : cluster.endpointOf(leader, broker.config.interBrokerListener.name);
  if (coordinator === null) return mapped(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  const guard: VerificationGuard = partition.holdVerificationGuard(producerId);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    partition.releaseVerificationGuard(producerId, guard);
  };
  return {
    answer: broker.txnVerifier.verify(coordinator, input).then(([remote]) => mapped(remote.errorCode)),
    admit() {
      const holds = partition.hasOngoingTransaction(producerId, producerEpoch) || partition.verificationHolds(producerId, guard);
      release();
      return holds ? ACCEPTED : ended;
    },
    release,
  };
}

export function isPending(v: Verdict | PendingVerification): v is PendingVerification {
  return 'answer' in v;
}

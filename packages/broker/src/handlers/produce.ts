// Produce (key 0).
// Behavior: each partition's record set must hold exactly one complete RecordBatch v2 (Kafka's
// request rules, produce-records.ts), which is handed to the native log as opaque bytes in one
// call; the log validates its header and CRC, assigns offsets and appends. Per-
// partition outcomes are values: UNKNOWN_TOPIC_OR_PARTITION, CORRUPT_MESSAGE, MESSAGE_TOO_LARGE,
// INVALID_RECORD, KAFKA_STORAGE_ERROR, and for idempotent producers (checked by the log, atomically
// with the append) OUT_OF_ORDER_SEQUENCE_NUMBER and INVALID_PRODUCER_EPOCH; a retried duplicate of
// one of a producer's last five batches is answered NONE with the original offsets. acks=0 sends
// no response; acks=1 and -1 answer after the
// append on a single node (the leader is the whole ISR), and after an fsync when
// `sluice.flush.on.ack.enable` is set (group commit: concurrent requests share fsyncs). A
// partition whose append failed with EIO or whose fsync failed goes offline (KAFKA_STORAGE_ERROR
// until restart); an fsync failure turns that partition's answer into KAFKA_STORAGE_ERROR, so
// nothing is acknowledged that was not made durable. ENOSPC refuses the append and nothing else.
// Transactional batches (attribute bit 0x10) are verified first (KIP-890 part 1, as Kafka's
// broker-side verification): the partition must be in the producer's ongoing transaction at the
// transaction coordinator, else TRANSACTION_ABORTABLE (INVALID_TXN_STATE before v11);
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH; CONCURRENT_TRANSACTIONS and COORDINATOR_* become
// NOT_ENOUGH_REPLICAS (retriable for every client), as Kafka maps them. A transactional batch
// without the request's transactionalId is INVALID_TXN_STATE (Kafka's log refuses it
// unverified). With the coordinator on this broker the check and the native append are one
// synchronous step, so no marker can land between them; with the coordinator on another broker
// (cluster mode) the leader asks it with AddPartitionsToTxn VerifyOnly under a verification guard
// that a marker ends, unless the partition already has the producer's ongoing transaction
// (produce-verification.ts). A control batch from a client is refused by the native log
// (INVALID_RECORD).
// Cluster mode: only the leader takes writes (NOT_LEADER_OR_FOLLOWER elsewhere). acks=-1 needs
// min.insync.replicas in the ISR before the append (NOT_ENOUGH_REPLICAS, checked after the transactional verification, as Kafka's
// append does) and is answered once the
// high watermark passes the batch — the whole ISR has it — or REQUEST_TIMED_OUT after the
// request's timeoutMs; NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below the minimum
// meanwhile (Kafka's DelayedProduce), NOT_LEADER_OR_FOLLOWER if the partition's leader epoch
// moved before that (a demoted leader's log no longer says what became of the batch).
// acks=1 answers after the leader's append.
// Version notes: served from v3 (RecordBatch v2 only) to v11, advertised from v0 as Kafka 4 does
// for librdkafka's sake; v5 logStartOffset; v8 recordErrors/errorMessage (recordErrors name the
// keyless records refused by a compacted topic, as Kafka's do); v9+ flexible; v11
// TRANSACTION_ABORTABLE.

import { ErrorCode, type ProduceResponseResponsesPartitionResponses as PartitionResponse } from '@sluice/protocol';
import { keylessRecordErrors } from '../keyless-records.ts';
import { produceRecords } from '../produce-records.ts';
import { leavesStorageUnknown, partitionFailure } from '../storage-errors.ts';
import type { DelayedOperations } from '../delayed/delayed-operations.ts';
import { flushEachForAck, type Partition } from '../partition.ts';
import { AclOperation, authorize, ResourceType } from './authorization.ts';
import { CLOSE_CONNECTION, defineHandler, NO_RESPONSE } from './handler.ts';
import { isPending, type PendingVerification, verifyTransactional } from './produce-verification.ts';
import { produceThrottleMs } from './quota-throttling.ts';

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
}

export const produceHandler = defineHandler({
  apiKey: 0,
  minVersion: 3,
  maxVersion: 11,
  advertisedMinVersion: 0,
  handle(ctx, request) {
    const { broker } = ctx;
    const version = ctx.header.apiVersion;
    const acks = request.acks;
    const toFlush = new Set<Partition>();
    /** Successful answers per partition, to be turned into errors if their fsync fails. */
    const awaitingFlush: Array<{ partition: Partition; response: PartitionResponse }> = [];
    /** acks=-1 in cluster mode: answers that wait until the high watermark passes `nextOffset`. */
    const awaitingReplicas: AwaitingReplicas[] = [];
    const cluster = broker.cluster;
    /** Leaders named in NOT_LEADER_OR_FOLLOWER answers (KIP-951 nodeEndpoints). */
    const movedTo = new Set<number>();
    const now = Date.now();
    // Kafka: a transactional produce needs WRITE on its transactional id, else the whole request
    // fails with TRANSACTIONAL_ID_AUTHORIZATION_FAILED; then WRITE on each topic, checked before
    // the topic's existence.
    const transactionalId = request.transactionalId ?? null;
    if (transactionalId !== null && !authorize(ctx, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, transactionalId)) {
      const responses = request.topicData.map((t) => ({
        name: t.name,
        partitionResponses: t.partitionData.map(({ index }) => failed(index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)),
      }));
      return acks === 0 ? CLOSE_CONNECTION : { responses, throttleTimeMs: 0 };
    }
    /** Remote verifications under way: each fills its partition's answer once settled. */
    const verifying: Promise<void>[] = [];
    /** The append of a batch that passed its checks; fills `answer` (kept in the response). */
    const appendVerified = (answer: PartitionResponse, partition: Partition, batch: Uint8Array, nowMs: number): PartitionResponse => {
      const index = partition.index;
      const topicName = partition.topic.name;
      const replicated = cluster !== null && partition.isReplicated;
      const minIsr = replicated ? partition.topic.config.num('min.insync.replicas') : 1;
      if (replicated && acks === -1 && cluster.replication.isr(partition).length < minIsr) {
        return Object.assign(
          answer,
          failed(index, ErrorCode.NOT_ENOUGH_REPLICAS, `${cluster.replication.isr(partition).length} in-sync replicas, min.insync.replicas is ${minIsr}`),
        );
      }
      try {
        const started = performance.now();
        const appended = partition.append(batch, nowMs);
        if (replicated) cluster.replication.onLeaderAppend(partition);
        // A retried batch of an idempotent producer wrote nothing, so there is nothing to
        // announce; Kafka answers it NONE with the original offsets (acks and fsync-on-ack
        // apply as to any append).
        if (appended.duplicate)
          broker.logger.debug({ topic: topicName, partition: index, baseOffset: appended.baseOffset }, 'duplicate batch answered with its original offsets');
        // A retried duplicate (idempotent producer) appended nothing: not counted.
        if (!appended.duplicate) {
          broker.metrics.dataPath.appended(batch.byteLength, performance.now() - started);
          broker.metrics.broker.produced(topicName, batch.byteLength, appended.recordCount);
          if (appended.rolled) broker.metrics.log.segmentRolled();
        }
        const response: PartitionResponse = Object.assign(answer, {
          index,
          errorCode: 0,
          baseOffset: appended.baseOffset,
          logAppendTimeMs: appended.logAppendTime,
          logStartOffset: appended.logStartOffset,
          recordErrors: [],
          errorMessage: null,
        });
        if (acks !== 0) {
          toFlush.add(partition);
          awaitingFlush.push({ partition, response });
        }
        if (replicated && acks === -1)
          awaitingReplicas.push({ partition, response, nextOffset: appended.lastOffset + 1, minIsr, leaderEpoch: partition.leaderEpoch });
        return response;
      } catch (err) {
        const failure = partitionFailure(err);
        if (failure.unexpected) broker.logger.error({ topic: topicName, partition: index, err }, 'append failed unexpectedly');
        if (leavesStorageUnknown(err)) partition.markOffline(err);
        else broker.logger.debug({ topic: topicName, partition: index, err: failure.message }, 'append rejected');
        Object.assign(answer, failed(index, failure.errorCode, failure.message));
        // Keyless records in a compacted topic: name each one, as Kafka does (keyless-records.ts).
        if (failure.errorCode === ErrorCode.INVALID_RECORD && partition.topic.config.isCompacted()) {
          Object.assign(answer, keylessRecordErrors(batch, topicName, index) ?? {});
        }
        return answer;
      }
    };
    /**
     * Cluster mode, the transaction's coordinator elsewhere: after its answer, the partition is
     * checked again (still led here in the same epoch, online) and the guard with it, in the same
     * synchronous step as the append.
     */
    const appendAfterVerification = async (answer: PartitionResponse, partition: Partition, batch: Uint8Array, pending: PendingVerification) => {
      const leaderEpoch = partition.leaderEpoch;
      const verdict = await pending.answer;
      const { index } = answer;
      const topicName = partition.topic.name;
      if (verdict.errorCode !== ErrorCode.NONE) {
        pending.release();
        Object.assign(answer, failed(index, verdict.errorCode, verdict.message));
        return;
      }
      if (
        cluster !== null &&
        (!cluster.isLeader(topicName, index) || partition.leaderEpoch !== leaderEpoch || broker.topics.get(topicName)?.partitions[index] !== partition)
      ) {
        pending.release();
        const currentLeader = cluster.currentLeader(topicName, index);
        if (currentLeader.leaderId >= 0) movedTo.add(currentLeader.leaderId);
        Object.assign(answer, { ...failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER), currentLeader });
        return;
      }
      if (partition.offline) {
        pending.release();
        Object.assign(answer, failed(index, ErrorCode.KAFKA_STORAGE_ERROR, "the partition's storage failed; it is offline until the broker restarts"));
        return;
      }
      const admitted = pending.admit();
      if (admitted.errorCode !== ErrorCode.NONE) Object.assign(answer, failed(index, admitted.errorCode, admitted.message));
      else appendVerified(answer, partition, batch, Date.now());
    };
    const writable = new Map<string, boolean>();
    const responses = request.topicData.map((topicData) => {
      const topic = broker.topics.get(topicData.name);
      let mayWrite = writable.get(topicData.name);
      if (mayWrite === undefined) writable.set(topicData.name, (mayWrite = authorize(ctx, AclOperation.WRITE, ResourceType.TOPIC, topicData.name)));
      const partitionResponses = topicData.partitionData.map(({ index, records }) => {
        if (acks !== 0 && acks !== 1 && acks !== -1) return failed(index, ErrorCode.INVALID_REQUIRED_ACKS);
        if (!mayWrite) return failed(index, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const partition = topic?.partitions[index];
        if (partition === undefined) {
          // Cluster mode: a partition with no replica here is led elsewhere.
          const elsewhere = cluster?.currentLeader(topicData.name, index);
          if (elsewhere === undefined || elsewhere.leaderId < 0) return failed(index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
          movedTo.add(elsewhere.leaderId);
          return { ...failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER), currentLeader: elsewhere };
        }
        // Cluster mode: only the partition's leader (with a valid lease) takes writes; the answer
        // names the current leader (KIP-951, v10+), its endpoint in nodeEndpoints.
        if (cluster !== null && !partition.topic.isInternal && !cluster.isLeader(topicData.name, index)) {
          const currentLeader = cluster.currentLeader(topicData.name, index);
          if (currentLeader.leaderId >= 0) movedTo.add(currentLeader.leaderId);
          return { ...failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER), currentLeader };
        }
        // Internal topics (__consumer_offsets) are written by the broker only, as in Kafka.
        if (partition.topic.isInternal) return failed(index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topicData.name}`);
        // Kafka's request-level rules (one complete v2 batch; an incomplete tail is dropped).
        const checked = produceRecords(records);
        if ('errorCode' in checked) return failed(index, checked.errorCode, checked.message);
        const batch = checked.batch;
        if (partition.offline) return failed(index, ErrorCode.KAFKA_STORAGE_ERROR, "the partition's storage failed; it is offline until the broker restarts");
        // Local coordinator: no await from here to the append, so the verification holds when the
        // batch lands. Remote coordinator: the append waits for its answer (produce-verification.ts).
        const verified = verifyTransactional(broker, version, transactionalId, partition, batch);
        if (isPending(verified)) {
          const answer = failed(index, ErrorCode.REQUEST_TIMED_OUT);
          verifying.push(appendAfterVerification(answer, partition, batch, verified));
          return answer;
        }
        if (verified.errorCode !== ErrorCode.NONE) return failed(index, verified.errorCode, verified.message);
        return appendVerified(failed(index, ErrorCode.NONE), partition, batch, now);
      });
      return { name: topicData.name, partitionResponses };
    });
    // The answer once every partition has its outcome (remote verifications settled).
    const respond = () => {
      // Client quotas: the request's record bytes count against producer_byte_rate (Kafka records
      // the request's size); over it, the answer carries the throttle time and the connection mutes.
      const throttleTimeMs = produceThrottleMs(ctx, request.topicData);
      if (acks === 0) {
        if (throttleTimeMs > 0) ctx.throttle?.(throttleTimeMs);
        // Kafka closes the connection of an acks=0 producer whose request failed anywhere: the
        // only signal such a client gets (it reconnects and refreshes metadata).
        const failedAny = responses.some((t) => t.partitionResponses.some((p) => p.errorCode !== 0));
        return failedAny ? CLOSE_CONNECTION : NO_RESPONSE;
      }
      const nodeEndpoints = cluster === null ? [] : [...movedTo].flatMap((id) => cluster.endpointOf(id, ctx.connection.listenerName) ?? []);
      const response = nodeEndpoints.length === 0 ? { responses, throttleTimeMs } : { responses, throttleTimeMs, nodeEndpoints };
      if (awaitingReplicas.length > 0) {
        const flushed = broker.config.bool('sluice.flush.on.ack.enable') && toFlush.size > 0 ? flushForAcks(toFlush, awaitingFlush) : Promise.resolve();
        return Promise.all([
          flushed,
          waitForReplicas(broker.delayedProduces, awaitingReplicas, request.timeoutMs, (p) => cluster!.replication.isr(p).length),
        ]).then(() => response);
      }
      if (!broker.config.bool('sluice.flush.on.ack.enable') || toFlush.size === 0) return response;
      return flushForAcks(toFlush, awaitingFlush).then(() => response);
    };
    return verifying.length === 0 ? respond() : Promise.all(verifying).then(respond);
  },
});

/** Group commit: the answers of partitions whose fsync failed become KAFKA_STORAGE_ERROR. */
function flushForAcks(toFlush: Set<Partition>, awaitingFlush: Array<{ partition: Partition; response: PartitionResponse }>): Promise<void> {
  return flushEachForAck([...toFlush]).then((notFlushed) => {
    for (const { partition, response: answer } of awaitingFlush) {
      if (!notFlushed.has(partition)) continue;
      // Appended but not durable: not acknowledged. The partition is offline now.
      Object.assign(answer, failed(answer.index, ErrorCode.KAFKA_STORAGE_ERROR, 'fsync failed; the records were not acknowledged'));
    }
  });
}

/** One partition's appended batch of an acks=-1 request, waiting for the ISR. */
export interface AwaitingReplicas {
  readonly partition: Partition;
  readonly response: PartitionResponse;
  /** The offset after the batch: committed once the high watermark reaches it. */
  readonly nextOffset: number;
  readonly minIsr: number;
  /** The leader epoch the batch was appended in. */
  readonly leaderEpoch: number;
}

/**
 * acks=-1 in cluster mode (Kafka's DelayedProduce): resolves once every partition's high
 * watermark reached its batch's end, or after `timeoutMs`; the answers of partitions that did
 * not get there become REQUEST_TIMED_OUT, and those that did while the ISR was below
 * min.insync.replicas NOT_ENOUGH_REPLICAS_AFTER_APPEND. A partition whose leader epoch moved
 * since the append answers NOT_LEADER_OR_FOLLOWER, at once (a leader demoted to
 * follower truncates what was not committed and then follows the new leader's high watermark,
 * which passes the same offsets holding other records — counting that as this batch's commit
 * would acknowledge records that are gone; the client retries, and an idempotent producer's
 * retry of a batch that was committed is answered with its original offsets by the new leader).
 */
export function waitForReplicas(
  delayed: DelayedOperations<Partition>,
  waiting: readonly AwaitingReplicas[],
  timeoutMs: number,
  isrSize: (p: Partition) => number,
): Promise<void> {
  const leadershipChanged = (w: AwaitingReplicas) => w.partition.leaderEpoch !== w.leaderEpoch;
  const replicated = (w: AwaitingReplicas) => w.partition.highWatermark >= w.nextOffset && !leadershipChanged(w);
  const done = (w: AwaitingReplicas) => replicated(w) || leadershipChanged(w) || w.partition.offline;
  return new Promise((resolve) => {
    delayed.tryCompleteElseWatch(
      {
        tryComplete: () => waiting.every(done),
        onComplete: () => {
          for (const w of waiting) {
            if (w.response.errorCode !== ErrorCode.NONE) continue;
            if (w.partition.offline)
              Object.assign(
                w.response,
                failed(w.response.index, ErrorCode.KAFKA_STORAGE_ERROR, 'the partition went offline before the replicas had the records'),
              );
            else if (leadershipChanged(w))
              Object.assign(
                w.response,
                failed(w.response.index, ErrorCode.NOT_LEADER_OR_FOLLOWER, 'the leadership changed before the in-sync replicas had the records'),
              );
            else if (!replicated(w))
              Object.assign(w.response, failed(w.response.index, ErrorCode.REQUEST_TIMED_OUT, 'the in-sync replicas did not get the records in time'));
            else if (isrSize(w.partition) < w.minIsr)
              Object.assign(
                w.response,
                failed(w.response.index, ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND, `the ISR shrank below min.insync.replicas (${w.minIsr})`),
              );
          }
          resolve();
        },
      },
      waiting.map((w) => w.partition),
      Math.max(0, timeoutMs),
    );
  });
}

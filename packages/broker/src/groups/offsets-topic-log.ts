// The coordinator's GroupLog on the internal topic `__consumer_offsets`, through the same
// storage engine as every other topic: each append is one uncompressed RecordBatch v2 whose
// records carry the keys and values of records.ts (tombstones have a null value).
//
// The topic is created on first use, as Kafka creates it on the first FindCoordinator, with
// `offsets.topic.num.partitions` partitions and `cleanup.policy=compact` (the latest record per
// key is what replay needs, so compaction keeps the log bounded without changing the result).
// An existing topic keeps its partition count, so every group stays in the partition its
// records are already in.
//
// Replay reads each partition's batches back as bytes (internal-topic-replay.ts). Records of a
// transactional batch (TxnOffsetCommit) are replayed with their producer, and COMMIT/ABORT
// markers where they sit, so the coordinator stages and resolves pending offsets as it did live.
//
// Concurrency: event loop only; the topic's partitions are appended to only from here.

import { ErrorCode, buildRecordBatch, readEndTxnMarker } from '@sluice/protocol';
import type { BrokerConfig } from '../config.ts';
import { replayPartitionBatches } from '../internal-topic-replay.ts';
import type { Logger } from '../logger.ts';
import { flushForAck, type Partition } from '../partition.ts';
import { storageFailure } from '../storage-errors.ts';
import type { TopicCreator } from '../topic-creation.ts';
import type { Topic, TopicRegistry } from '../topics.ts';
import { type GroupLog, type GroupLogAppend, GroupLogError, type GroupLogRecord, type GroupLogVisitor, type TransactionalProducer } from './group-log.ts';
import { OFFSETS_TOPIC } from './partitioning.ts';

/** Kafka's offsets.topic.segment.bytes default: small segments so compaction can work early. */
export const OFFSETS_TOPIC_SEGMENT_BYTES = 104_857_600;
/** Bytes read per replay step; one batch larger than this is still read whole. */
const DEFAULT_REPLAY_READ_BYTES = 1 << 20;

export { type BatchBytesReader, batchBytesReader } from '../internal-topic-replay.ts';

/**
 * Cluster mode: `__consumer_offsets` is a replicated cluster topic (created in etcd by the
 * broker answering FindCoordinator, projected here like any other), and a commit counts once
 * the in-sync replicas have it, as Kafka appends coordinator records with acks=-1.
 */
export interface OffsetsReplication {
  /** The partition count of the cluster's offsets topic, or undefined while it does not exist. */
  clusterPartitionCount(): number | undefined;
  /** Whether this broker leads the partition now. */
  leads(partition: Partition): boolean;
  /** After an append as leader: the high watermark may move (no follower in the ISR). */
  onLeaderAppend(partition: Partition): void;
  /**
   * Resolves NONE once the partition's high watermark reached `offset`, else the error
   * (REQUEST_TIMED_OUT after `offsets.commit.timeout.ms`, NOT_ENOUGH_REPLICAS_AFTER_APPEND).
   */
  replicated(partition: Partition, offset: number): Promise<number>;
}

/** What the offsets topic needs of the broker: the settings, the topics, topic creation. */
export interface OffsetsTopicHost {
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly topicCreator: TopicCreator;
  /** Cluster mode's replication (null on a single node); asked at each use. */
  readonly replication?: () => OffsetsReplication | null;
}

export class OffsetsTopicLog implements GroupLog {
  private readonly localPartitionCount: number;
  private readonly broker: OffsetsTopicHost;
  private readonly logger: Logger;
  private readonly replayReadBytes: number;

  constructor(broker: OffsetsTopicHost, logger: Logger, replayReadBytes = DEFAULT_REPLAY_READ_BYTES) {
    this.broker = broker;
    this.logger = logger;
    this.replayReadBytes = replayReadBytes;
    const existing = broker.topics.get(OFFSETS_TOPIC);
    this.localPartitionCount = existing?.partitions.length ?? broker.config.int('offsets.topic.num.partitions');
  }

  /** The cluster's partition count in cluster mode (once the topic exists), else this node's. */
  get partitionCount(): number {
    return this.broker.replication?.()?.clusterPartitionCount() ?? this.localPartitionCount;
  }

  append(partition: number, records: readonly GroupLogRecord[], nowMs: number): GroupLogAppend {
    const target = this.target(partition, records);
    const appended = this.appendBatch(
      target,
      buildRecordBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })), compression: 'none' }),
      nowMs,
    );
    return { durable: this.durable(target, appended.lastOffset + 1), baseOffset: appended.baseOffset };
  }

  appendTransactional(partition: number, records: readonly GroupLogRecord[], nowMs: number, producer: TransactionalProducer): GroupLogAppend {
    const target = this.target(partition, records);
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })),
      compression: 'none',
      producerId: producer.producerId,
      producerEpoch: producer.producerEpoch,
      baseSequence: nextSequence(target, producer),
      transactional: true,
    });
    const appended = this.appendBatch(target, batch, nowMs);
    return { durable: this.durable(target, appended.lastOffset + 1), baseOffset: appended.baseOffset };
  }

  private target(partition: number, records: readonly GroupLogRecord[]): Partition {
    if (records.length === 0) throw new Error('BUG: empty append to the offsets topic');
    const target = this.topic().partitions[partition];
    if (target === undefined) throw new Error(`BUG: offsets topic has no partition ${partition}`);
    // Cluster mode: only the partition's leader writes it (the coordinator moved: NOT_COORDINATOR).
    const replication = this.broker.replication?.() ?? null;
    if (replication !== null && !replication.leads(target))
      throw new GroupLogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `this broker does not lead ${OFFSETS_TOPIC}-${partition}`);
    return target;
  }

  private appendBatch(target: Partition, batch: Uint8Array, nowMs: number): { baseOffset: number; lastOffset: number } {
    try {
      const appended = target.append(batch, nowMs);
      this.broker.replication?.()?.onLeaderAppend(target);
      return appended;
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === null) throw err;
      throw new GroupLogError(failure.errorCode, failure.message);
    }
  }

  replay(visitor: GroupLogVisitor, only?: number): void {
    const topic = this.broker.topics.get(OFFSETS_TOPIC);
    if (topic === undefined) return;
    topic.partitions.forEach((partition, index) => {
      if (only === undefined || index === only) this.replayPartition(partition, index, visitor);
    });
  }

  private replayPartition(partition: Partition, index: number, visitor: GroupLogVisitor): void {
    replayPartitionBatches(partition, OFFSETS_TOPIC, this.replayReadBytes, (batch, inRange) => {
      if (batch.isControl) {
        if (!inRange(batch.baseOffset)) return;
        const marker = readEndTxnMarker(batch);
        if (marker !== null) visitor.marker(index, { producerId: batch.producerId, result: marker.type });
        return;
      }
      const transaction = batch.transactional ? { producerId: batch.producerId, producerEpoch: batch.producerEpoch } : null;
      for (const record of batch.records) {
        if (!inRange(record.offset)) continue;
        if (record.key === null) {
          this.logger.warn({ partition: index, offset: record.offset }, 'skipping a keyless record in the offsets topic');
          continue;
        }
        visitor.record(index, { key: record.key, value: record.value }, { batchOffset: batch.baseOffset, transaction });
      }
    });
  }

  /** The offsets topic, created on first use (also by Metadata auto-creation of its name). */
  topic(): Topic {
    const existing = this.broker.topics.get(OFFSETS_TOPIC);
    if (existing !== undefined) return existing;
    // Cluster mode: the topic is the cluster's (created in etcd, projected here), never made locally.
    if (this.broker.replication?.() != null) throw new GroupLogError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${OFFSETS_TOPIC} has no replica here`);
    const created = this.broker.topicCreator.create(
      OFFSETS_TOPIC,
      this.partitionCount,
      -1,
      [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.bytes', value: String(OFFSETS_TOPIC_SEGMENT_BYTES) },
      ],
      false,
    );
    if (created.topic === undefined) {
      // Kafka answers COORDINATOR_NOT_AVAILABLE while its offsets topic cannot be created.
      throw new GroupLogError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${OFFSETS_TOPIC}: ${created.errorMessage}`);
    }
    this.logger.info({ partitions: this.partitionCount }, `created ${OFFSETS_TOPIC}`);
    return created.topic;
  }

  /**
   * After fsync when `sluice.flush.on.ack.enable` is set (shared with other waiters), else at
   * once; in cluster mode also once the in-sync replicas have everything before `end`.
   */
  private async durable(partition: Partition, end: number): Promise<void> {
    const replication = this.broker.replication?.() ?? null;
    if (replication !== null) {
      const errorCode = await replication.replicated(partition, end);
      if (errorCode !== ErrorCode.NONE)
        throw new GroupLogError(errorCode, `${OFFSETS_TOPIC}-${partition.index}: the in-sync replicas did not take the records`);
    }
    if (!this.broker.config.bool('sluice.flush.on.ack.enable')) return;
    try {
      await flushForAck([partition]);
    } catch (err) {
      const failure = storageFailure(err);
      throw new GroupLogError(failure?.errorCode ?? ErrorCode.KAFKA_STORAGE_ERROR, err instanceof Error ? err.message : String(err));
    }
  }
}

/**
 * The sequence for the broker's own transactional batch of `producer` in an offsets partition.
 * Kafka writes these with no sequence (AppendOrigin.COORDINATOR skips the check); the native log
 * checks every producer batch alike, so the batch carries the producer's next sequence there —
 * from the partition's producer state: the last sequence + 1 in the same epoch, else 0 (a new
 * epoch starts at 0; a producer unknown here may start anywhere). Only the broker writes to this
 * topic, so nothing else moves that sequence between this read and the append (no await between).
 */
function nextSequence(partition: Partition, producer: TransactionalProducer): number {
  const state = partition.log.producers().find((p) => p.producerId === producer.producerId);
  if (state === undefined || state.producerEpoch !== producer.producerEpoch || state.lastSequence < 0) return 0;
  // Sequences wrap from int32 max to 0, as Kafka's.
  return state.lastSequence === 0x7fff_ffff ? 0 : state.lastSequence + 1;
}

// The coordinator's TransactionLog on the internal topic `__transaction_state`, through the same
// storage engine as every other topic, as groups/offsets-topic-log.ts does for
// `__consumer_offsets`: each append is one uncompressed RecordBatch v2 whose records carry the
// keys and values of records.ts (an expired transactional id is a tombstone).
//
// The topic is created on first use (the first FindCoordinator for a transactional id, or the
// first transition), as Kafka creates it, with `transaction.state.log.num.partitions` partitions,
// `transaction.state.log.segment.bytes` segments and `cleanup.policy=compact` (replay needs only
// the latest record per transactional id). On one node its replication factor is 1, whatever
// `transaction.state.log.replication.factor` says. An existing topic keeps its partition count,
// so every transactional id stays in the partition its records are in.
//
// Cluster mode (`replication` given): the topic is the cluster's — created in etcd by the first
// FindCoordinator for a transactional id (handlers/create-topic.ts), replication factor
// `transaction.state.log.replication.factor`, `min.insync.replicas` =
// `transaction.state.log.min.isr` — and only the leader of a partition appends to it (else
// NOT_LEADER_OR_FOLLOWER, which the coordinator answers as NOT_COORDINATOR). An append counts
// (`durable`) once the in-sync replicas have it, as Kafka's coordinator writes with acks=-1;
// below the minimum ISR it is refused with NOT_ENOUGH_REPLICAS (the client hears
// COORDINATOR_NOT_AVAILABLE and retries).
//
// Replay reads batches back as bytes (internal-topic-replay.ts), `transaction.state.log.load.buffer.size`
// bytes per step.
//
// Concurrency: event loop only; the topic's partitions are appended to only from here.

import { ErrorCode, buildRecordBatch } from '@sluice/protocol';
import type { BrokerConfig } from '../config.ts';
import { replayPartitionBatches } from '../internal-topic-replay.ts';
import type { Logger } from '../logger.ts';
import { flushForAck, type Partition } from '../partition.ts';
import { storageFailure } from '../storage-errors.ts';
import type { TopicCreator } from '../topic-creation.ts';
import type { Topic, TopicRegistry } from '../topics.ts';
import { type TransactionLog, type TransactionLogAppend, TransactionLogError, type TransactionLogRecord } from './transaction-log.ts';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** What the transaction state topic needs of the broker: the settings, the topics, topic creation. */
export interface TransactionStateTopicHost {
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly topicCreator: TopicCreator;
  /** Cluster mode: how the topic is replicated (null or absent on a single node). */
  readonly replication?: () => TransactionStateReplication | null;
}

export interface TransactionStateReplication {
  /** The partition count of the cluster's topic, or undefined while it does not exist. */
  clusterPartitionCount(): number | undefined;
  /** Whether this broker leads the partition now. */
  leads(partition: Partition): boolean;
  /** How many replicas are in the partition's ISR now. */
  isrSize(partition: Partition): number;
  /** After an append as leader: the high watermark may move. */
  onLeaderAppend(partition: Partition): void;
  /** Resolves NONE once the partition's high watermark reached `offset`, else the error. */
  replicated(partition: Partition, offset: number): Promise<number>;
}

export class TransactionStateTopicLog implements TransactionLog {
  private readonly localPartitionCount: number;
  private readonly broker: TransactionStateTopicHost;
  private readonly logger: Logger;

  constructor(broker: TransactionStateTopicHost, logger: Logger) {
    this.broker = broker;
    this.logger = logger;
    const existing = broker.topics.get(TRANSACTION_STATE_TOPIC);
    this.localPartitionCount = existing?.partitions.length ?? broker.config.int('transaction.state.log.num.partitions');
  }

  /** The cluster's partition count in cluster mode (once the topic exists), else this node's. */
  get partitionCount(): number {
    return this.broker.replication?.()?.clusterPartitionCount() ?? this.localPartitionCount;
  }

  append(partition: number, records: readonly TransactionLogRecord[], nowMs: number): TransactionLogAppend {
    if (records.length === 0) throw new Error('BUG: empty append to the transaction state topic');
    const target = this.topic().partitions[partition];
    if (target === undefined) throw new Error(`BUG: ${TRANSACTION_STATE_TOPIC} has no partition ${partition}`);
    const replication = this.broker.replication?.() ?? null;
    if (replication !== null) {
      // Only the leader writes (the coordinator moved: NOT_COORDINATOR), and only with enough replicas in sync.
      if (!replication.leads(target))
        throw new TransactionLogError(ErrorCode.NOT_LEADER_OR_FOLLOWER, `this broker does not lead ${TRANSACTION_STATE_TOPIC}-${partition}`);
      const minIsr = target.topic.config.num('min.insync.replicas');
      const isr = replication.isrSize(target);
      if (isr < minIsr)
        throw new TransactionLogError(
          ErrorCode.NOT_ENOUGH_REPLICAS,
          `${TRANSACTION_STATE_TOPIC}-${partition}: ${isr} in-sync replicas, min.insync.replicas is ${minIsr}`,
        );
    }
    const batch = buildRecordBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })), compression: 'none' });
    let end: number;
    try {
      end = target.append(batch, nowMs).lastOffset + 1;
      replication?.onLeaderAppend(target);
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === null) throw err;
      throw new TransactionLogError(failure.errorCode, failure.message);
    }
    return { durable: this.durable(target, end, replication) };
  }

  replay(visit: (partition: number, record: TransactionLogRecord) => void, only?: number): void {
    const topic = this.broker.topics.get(TRANSACTION_STATE_TOPIC);
    if (topic === undefined) return;
    const stepBytes = this.broker.config.int('transaction.state.log.load.buffer.size');
    topic.partitions.forEach((partition, index) => {
      if (only !== undefined && index !== only) return;
      replayPartitionBatches(partition, TRANSACTION_STATE_TOPIC, stepBytes, (batch, inRange) => {
        if (batch.isControl) return;
        for (const record of batch.records) {
          if (!inRange(record.offset)) continue;
          if (record.key === null) {
            this.logger.warn({ partition: index, offset: record.offset }, `skipping a keyless record in ${TRANSACTION_STATE_TOPIC}`);
            continue;
          }
          visit(index, { key: record.key, value: record.value });
        }
      });
    });
  }

  /** The topic, created on first use (also by Metadata auto-creation of its name). */
  topic(): Topic {
    const existing = this.broker.topics.get(TRANSACTION_STATE_TOPIC);
    if (existing !== undefined) return existing;
    // Cluster mode: the topic is the cluster's (created in etcd, projected here), never made locally.
    if (this.broker.replication?.() != null)
      throw new TransactionLogError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `${TRANSACTION_STATE_TOPIC} has no replica here`);
    const created = this.broker.topicCreator.create(
      TRANSACTION_STATE_TOPIC,
      this.partitionCount,
      -1,
      [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'segment.bytes', value: String(this.broker.config.int('transaction.state.log.segment.bytes')) },
      ],
      false,
    );
    if (created.topic === undefined) {
      // Kafka answers COORDINATOR_NOT_AVAILABLE while its transaction state topic cannot be created.
      throw new TransactionLogError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${TRANSACTION_STATE_TOPIC}: ${created.errorMessage}`);
    }
    this.logger.info({ partitions: this.partitionCount }, `created ${TRANSACTION_STATE_TOPIC}`);
    return created.topic;
  }

  /**
   * After fsync when `sluice.flush.on.ack.enable` is set (shared with other waiters), else at
   * once; in cluster mode also once the in-sync replicas have everything before `end`.
   */
  private async durable(partition: Partition, end: number, replication: TransactionStateReplication | null): Promise<void> {
    if (replication !== null) {
      const errorCode = await replication.replicated(partition, end);
      if (errorCode !== ErrorCode.NONE)
        throw new TransactionLogError(errorCode, `${TRANSACTION_STATE_TOPIC}-${partition.index}: the in-sync replicas did not take the records`);
    }
    if (!this.broker.config.bool('sluice.flush.on.ack.enable')) return;
    try {
      await flushForAck([partition]);
    } catch (err) {
      const failure = storageFailure(err);
      throw new TransactionLogError(failure?.errorCode ?? ErrorCode.KAFKA_STORAGE_ERROR, err instanceof Error ? err.message : String(err));
    }
  }
}

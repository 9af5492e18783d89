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
}

export class TransactionStateTopicLog implements TransactionLog {
  readonly partitionCount: number;
  private readonly broker: TransactionStateTopicHost;
  private readonly logger: Logger;

  constructor(broker: TransactionStateTopicHost, logger: Logger) {
    this.broker = broker;
    this.logger = logger;
    const existing = broker.topics.get(TRANSACTION_STATE_TOPIC);
    this.partitionCount = existing?.partitions.length ?? broker.config.int('transaction.state.log.num.partitions');
  }

  append(partition: number, records: readonly TransactionLogRecord[], nowMs: number): TransactionLogAppend {
    if (records.length === 0) throw new Error('BUG: empty append to the transaction state topic');
    const target = this.topic().partitions[partition];
    if (target === undefined) throw new Error(`BUG: ${TRANSACTION_STATE_TOPIC} has no partition ${partition}`);
    const batch = buildRecordBatch({ records: records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })), compression: 'none' });
    try {
      target.append(batch, nowMs);
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === null) throw err;
      throw new TransactionLogError(failure.errorCode, failure.message);
    }
    return { durable: this.durable(target) };
  }

  replay(visit: (partition: number, record: TransactionLogRecord) => void): void {
    const topic = this.broker.topics.get(TRANSACTION_STATE_TOPIC);
    if (topic === undefined) return;
    const stepBytes = this.broker.config.int('transaction.state.log.load.buffer.size');
    topic.partitions.forEach((partition, index) => {
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

  /** After fsync when `sluice.flush.on.ack.enable` is set (shared with other waiters), else at once. */
  private async durable(partition: Partition): Promise<void> {
    if (!this.broker.config.bool('sluice.flush.on.ack.enable')) return;
    try {
      await flushForAck([partition]);
    } catch (err) {
      const failure = storageFailure(err);
      throw new TransactionLogError(failure?.errorCode ?? ErrorCode.KAFKA_STORAGE_ERROR, err instanceof Error ? err.message : String(err));
    }
  }
}

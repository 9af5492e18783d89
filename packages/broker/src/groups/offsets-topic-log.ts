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
// Replay reads each partition's batches back as bytes. The native PartitionLog's `read()` hands
// out file ranges for sendfile, not bytes; replay uses its byte-returning read, the
// BatchBytesReader interface (`readBytes(offset, maxBytes)`, whole batches from the one
// containing `offset`, at least one), which @sluice/native's PartitionLog provides. A log without
// it (a stand-in storage engine) cannot replay a non-empty offsets topic, so load fails loudly
// rather than forgetting committed offsets.
//
// Concurrency: event loop only; the topic's partitions are appended to only from here.

import { ErrorCode, buildRecordBatch, parseRecordBatches } from '@sluice/protocol';
import type { BrokerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { flushForAck, type Partition } from '../partition.ts';
import { storageFailure } from '../storage-errors.ts';
import type { TopicCreator } from '../topic-creation.ts';
import type { Topic, TopicRegistry } from '../topics.ts';
import { type GroupLog, type GroupLogAppend, GroupLogError, type GroupLogRecord } from './group-log.ts';
import { OFFSETS_TOPIC } from './partitioning.ts';

/** Kafka's offsets.topic.segment.bytes default: small segments so compaction can work early. */
export const OFFSETS_TOPIC_SEGMENT_BYTES = 104_857_600;
/** Bytes read per replay step; one batch larger than this is still read whole. */
const DEFAULT_REPLAY_READ_BYTES = 1 << 20;

/** Whole record batches as bytes, from the batch that contains `offset`; null at the log end. */
export interface BatchBytesReader {
  readBytes(offset: number, maxBytes: number): Uint8Array | null;
}

/** The byte-returning read of a partition log, when the storage engine provides one. */
export function batchBytesReader(log: object): BatchBytesReader | null {
  const candidate = log as Partial<BatchBytesReader>;
  return typeof candidate.readBytes === 'function' ? { readBytes: (offset, maxBytes) => candidate.readBytes!.call(log, offset, maxBytes) } : null;
}

/** What the offsets topic needs of the broker: the settings, the topics, topic creation. */
export interface OffsetsTopicHost {
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly topicCreator: TopicCreator;
}

export class OffsetsTopicLog implements GroupLog {
  readonly partitionCount: number;
  private readonly broker: OffsetsTopicHost;
  private readonly logger: Logger;
  private readonly replayReadBytes: number;

  constructor(broker: OffsetsTopicHost, logger: Logger, replayReadBytes = DEFAULT_REPLAY_READ_BYTES) {
    this.broker = broker;
    this.logger = logger;
    this.replayReadBytes = replayReadBytes;
    const existing = broker.topics.get(OFFSETS_TOPIC);
    this.partitionCount = existing?.partitions.length ?? broker.config.int('offsets.topic.num.partitions');
  }

  append(partition: number, records: readonly GroupLogRecord[], nowMs: number): GroupLogAppend {
    if (records.length === 0) throw new Error('BUG: empty append to the offsets topic');
    const target = this.topic().partitions[partition];
    if (target === undefined) throw new Error(`BUG: offsets topic has no partition ${partition}`);
    const batch = buildRecordBatch({
      records: records.map((r) => ({ key: r.key, value: r.value, timestamp: nowMs })),
      compression: 'none',
    });
    try {
      target.append(batch, nowMs);
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === null) throw err;
      throw new GroupLogError(failure.errorCode, failure.message);
    }
    return { durable: this.durable(target) };
  }

  replay(visit: (partition: number, record: GroupLogRecord) => void): void {
    const topic = this.broker.topics.get(OFFSETS_TOPIC);
    if (topic === undefined) return;
    topic.partitions.forEach((partition, index) => this.replayPartition(partition, index, visit));
  }

  private replayPartition(partition: Partition, index: number, visit: (partition: number, record: GroupLogRecord) => void): void {
    const end = partition.log.logEndOffset;
    let offset = partition.log.logStartOffset;
    if (offset >= end) return;
    const reader = batchBytesReader(partition.log);
    if (reader === null) {
      throw new Error(
        `${OFFSETS_TOPIC}-${index} holds offsets ${offset}..${end - 1} but the storage engine cannot read batches back as bytes ` +
          '(PartitionLog.readBytes is missing); refusing to start without the committed offsets',
      );
    }
    while (offset < end) {
      const bytes = reader.readBytes(offset, this.replayReadBytes);
      if (bytes === null) break;
      const batches = parseRecordBatches(bytes, { allowTruncatedTail: true });
      if (batches.length === 0) throw new Error(`BUG: readBytes(${offset}) on ${OFFSETS_TOPIC}-${index} returned no whole batch`);
      let next = offset;
      for (const batch of batches) {
        next = batch.baseOffset + batch.lastOffsetDelta + 1;
        if (batch.isControl) continue;
        for (const record of batch.records) {
          // The first batch may start before `offset` (reads return the containing batch).
          if (record.offset < offset || record.offset >= end) continue;
          if (record.key === null) {
            this.logger.warn({ partition: index, offset: record.offset }, 'skipping a keyless record in the offsets topic');
            continue;
          }
          visit(index, { key: record.key, value: record.value });
        }
      }
      if (next <= offset) throw new Error(`BUG: replay of ${OFFSETS_TOPIC}-${index} made no progress at offset ${offset}`);
      offset = next;
    }
  }

  /** The offsets topic, created on first use (also by Metadata auto-creation of its name). */
  topic(): Topic {
    const existing = this.broker.topics.get(OFFSETS_TOPIC);
    if (existing !== undefined) return existing;
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

  /** After fsync when `sluice.flush.on.ack.enable` is set (shared with other waiters), else at once. */
  private async durable(partition: Partition): Promise<void> {
    if (!this.broker.config.bool('sluice.flush.on.ack.enable')) return;
    try {
      await flushForAck([partition]);
    } catch (err) {
      const failure = storageFailure(err);
      throw new GroupLogError(failure?.errorCode ?? ErrorCode.KAFKA_STORAGE_ERROR, err instanceof Error ? err.message : String(err));
    }
  }
}

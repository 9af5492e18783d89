// Where share-partition state goes: an append-only log of (key, latest snapshot) records
// (share-state-records.ts). The broker's is the internal compacted topic `__share_group_state`
// (ShareStateTopicLog); tests use MemoryShareStateLog.
//
// The share coordinator changes a share-partition in memory, then appends its snapshot before it
// answers; an acknowledgement is answered only once `durable` resolved (after fsync when
// `sluice.flush.on.ack.enable` is set), so a restart never loses an acknowledged record.

import { ErrorCode, buildRecordBatch } from '@sluice/protocol';
import type { BrokerConfig } from '../config.ts';
import { replayPartitionBatches } from '../internal-topic-replay.ts';
import type { Logger } from '../logger.ts';
import { flushForAck } from '../partition.ts';
import { storageFailure } from '../storage-errors.ts';
import type { TopicCreator } from '../topic-creation.ts';
import type { Topic, TopicRegistry } from '../topics.ts';
import { SHARE_STATE_TOPIC } from './share-state-records.ts';

export interface ShareStateLog {
  /** Appends one record; throws ShareStateLogError when the append is refused. */
  append(key: Uint8Array, value: Uint8Array | null, nowMs: number): { readonly durable: Promise<void> };
  /** Visits every stored record in log order. */
  replay(visit: (key: Uint8Array, value: Uint8Array | null) => void): void;
}

/** A refused append or flush, with the Kafka error code of the storage failure. */
export class ShareStateLogError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(message);
    this.name = 'ShareStateLogError';
    this.errorCode = errorCode;
  }
}

/** In memory, for tests; `records` is what a restart would replay. */
export class MemoryShareStateLog implements ShareStateLog {
  readonly records: Array<{ key: Uint8Array; value: Uint8Array | null }> = [];

  append(key: Uint8Array, value: Uint8Array | null): { readonly durable: Promise<void> } {
    this.records.push({ key, value });
    return { durable: Promise.resolve() };
  }

  replay(visit: (key: Uint8Array, value: Uint8Array | null) => void): void {
    for (const r of this.records) visit(r.key, r.value);
  }
}

export interface ShareStateTopicHost {
  readonly config: BrokerConfig;
  readonly topics: TopicRegistry;
  readonly topicCreator: TopicCreator;
}

/** Bytes read per replay step; one batch larger than this is still read whole. */
const REPLAY_READ_BYTES = 1 << 20;

/**
 * `__share_group_state`: one partition, compacted (the latest snapshot per key is all replay
 * needs), created on first use. Each append is one uncompressed RecordBatch v2 of one record.
 * Concurrency: event loop only; only this class appends to the topic.
 */
export class ShareStateTopicLog implements ShareStateLog {
  private readonly host: ShareStateTopicHost;
  private readonly logger: Logger;

  constructor(host: ShareStateTopicHost, logger: Logger) {
    this.host = host;
    this.logger = logger;
  }

  append(key: Uint8Array, value: Uint8Array | null, nowMs: number): { readonly durable: Promise<void> } {
    const partition = this.topic().partitions[0];
    try {
      partition.append(buildRecordBatch({ records: [{ key, value, timestamp: nowMs }], compression: 'none' }), nowMs);
    } catch (err) {
      const failure = storageFailure(err);
      if (failure === null) throw err;
      throw new ShareStateLogError(failure.errorCode, failure.message);
    }
    return { durable: this.durable(partition) };
  }

  replay(visit: (key: Uint8Array, value: Uint8Array | null) => void): void {
    const topic = this.host.topics.get(SHARE_STATE_TOPIC);
    if (topic === undefined) return;
    for (const partition of topic.partitions) {
      replayPartitionBatches(partition, SHARE_STATE_TOPIC, REPLAY_READ_BYTES, (batch, inRange) => {
        if (batch.isControl) return;
        for (const record of batch.records) {
          if (!inRange(record.offset) || record.key === null) continue;
          visit(record.key, record.value);
        }
      });
    }
  }

  /** The topic, created on first use (also by Metadata auto-creation of its name). */
  topic(): Topic {
    const existing = this.host.topics.get(SHARE_STATE_TOPIC);
    if (existing !== undefined) return existing;
    const created = this.host.topicCreator.create(SHARE_STATE_TOPIC, 1, -1, [{ name: 'cleanup.policy', value: 'compact' }], false);
    if (created.topic === undefined) {
      throw new ShareStateLogError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `cannot create ${SHARE_STATE_TOPIC}: ${created.errorMessage}`);
    }
    this.logger.info({}, `created ${SHARE_STATE_TOPIC}`);
    return created.topic;
  }

  private async durable(partition: Parameters<typeof flushForAck>[0][number]): Promise<void> {
    if (!this.host.config.bool('sluice.flush.on.ack.enable')) return;
    try {
      await flushForAck([partition]);
    } catch (err) {
      const failure = storageFailure(err);
      throw new ShareStateLogError(failure?.errorCode ?? ErrorCode.KAFKA_STORAGE_ERROR, err instanceof Error ? err.message : String(err));
    }
  }
}

// Fetch: one round asks each partition's leader for records from a position, in parallel (one
// Fetch per broker), and decodes the record batches (decompressing them). No fetch sessions: every
// request is a full fetch (sessionId 0, epoch -1), which every broker accepts.
//
// Batches: the broker may return a batch that starts before the requested offset (the offset
// lies inside it), and may cut the last batch short at the size limit; records before the
// position are dropped and the cut batch is fetched again next round. Control batches
// (transaction markers) advance the position but yield no records.

import { ApiKey, type ExternalRecords, parseRecordBatches, ZERO_UUID } from '@sluice/protocol';
import { ClientError } from './errors.ts';
import type { ClusterMetadata, KafkaClient } from './kafka-client.ts';
import { groupByLeader, groupByTopic, type TopicPartition } from './offsets.ts';

export interface FetchPosition extends TopicPartition {
  readonly offset: number;
}

export interface FetchedHeader {
  readonly key: string;
  readonly value: Uint8Array | null;
}

export interface FetchedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly timestampType: 'CreateTime' | 'LogAppendTime';
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: readonly FetchedHeader[];
}

export interface PartitionFetch extends TopicPartition {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly records: readonly FetchedRecord[];
  /** Where the next fetch of this partition starts (the position itself when nothing came). */
  readonly nextOffset: number;
}

export interface FetchOptions {
  /** Long-poll: how long the broker may wait for minBytes. */
  readonly maxWaitMs: number;
  readonly minBytes: number;
  /** Per response. */
  readonly maxBytes: number;
  /** Per partition. */
  readonly partitionMaxBytes: number;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_FETCH_OPTIONS: FetchOptions = {
  maxWaitMs: 500,
  minBytes: 1,
  maxBytes: 50 * 1024 * 1024, // Kafka's fetch.max.bytes default
  partitionMaxBytes: 1024 * 1024, // Kafka's max.partition.fetch.bytes default
  requestTimeoutMs: 30_000,
};

/**
 * Decodes one partition's record set: the records at or after `position`, and the offset after
 * the last complete batch (or `position` when no batch was complete).
 */
export function decodePartitionRecords(
  topic: string,
  partition: number,
  position: number,
  bytes: Uint8Array | null,
): { records: FetchedRecord[]; nextOffset: number } {
  const records: FetchedRecord[] = [];
  let nextOffset = position;
  if (bytes === null || bytes.length === 0) return { records, nextOffset };
  for (const batch of parseRecordBatches(bytes, { allowTruncatedTail: true })) {
    const batchEnd = batch.baseOffset + batch.lastOffsetDelta + 1;
    if (batchEnd <= position) continue;
    if (!batch.isControl) {
      for (const r of batch.records) {
        if (r.offset < position) continue;
        records.push({
          topic,
          partition,
          offset: r.offset,
          timestamp: r.timestamp,
          timestampType: batch.timestampType,
          key: r.key,
          value: r.value,
          headers: r.headers,
        });
      }
    }
    nextOffset = Math.max(nextOffset, batchEnd);
  }
  return { records, nextOffset };
}

/**
 * A decoded response's record set. The generated response type also allows ExternalRecords (a
 * file range the broker's writer sends), which only the encoding side ever holds: the decoder
 * yields bytes or null.
 */
function receivedRecords(records: Uint8Array | ExternalRecords | null): Uint8Array | null {
  if (records === null || records instanceof Uint8Array) return records;
  throw new ClientError('a decoded Fetch response holds a file range instead of bytes');
}

export class Fetcher {
  private readonly client: KafkaClient;
  private readonly options: FetchOptions;

  constructor(client: KafkaClient, options: Partial<FetchOptions> = {}) {
    this.client = client;
    this.options = { ...DEFAULT_FETCH_OPTIONS, ...options };
  }

  get maxWaitMs(): number {
    return this.options.maxWaitMs;
  }

  /** One fetch round over `positions`, using `md` for leaders and topic ids. */
  async fetch(md: ClusterMetadata, positions: readonly FetchPosition[]): Promise<PartitionFetch[]> {
    const rounds = await Promise.all([...groupByLeader(md, positions)].map(([leader, list]) => this.fetchFromLeader(md, leader, list)));
    return rounds.flat();
  }

  private async fetchFromLeader(md: ClusterMetadata, leader: number, positions: readonly FetchPosition[]): Promise<PartitionFetch[]> {
    const conn = await this.client.node(leader);
    let version = conn.version(ApiKey.Fetch);
    const ids = new Map<string, string>();
    for (const p of positions) ids.set(p.topic, md.topics.get(p.topic)?.topicId ?? ZERO_UUID);
    // v13 names topics by id only; without ids (an older Metadata) stay on v12.
    if (version >= 13 && [...ids.values()].some((id) => id === ZERO_UUID)) version = 12;
    const names = new Map<string, string>();
    for (const [name, id] of ids) names.set(id, name);

    const byTopic = groupByTopic(positions);
    const body = await conn.request(
      ApiKey.Fetch,
      {
        replicaId: -1,
        maxWaitMs: this.options.maxWaitMs,
        minBytes: this.options.minBytes,
        maxBytes: this.options.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, list]) => ({
          topic,
          topicId: ids.get(topic),
          partitions: list.map((p) => ({
            partition: p.partition,
            currentLeaderEpoch: -1,
            fetchOffset: p.offset,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: this.options.partitionMaxBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      { version, timeoutMs: this.options.maxWaitMs + this.options.requestTimeoutMs },
    );
    // Fields a version lacks decode as their defaults (top-level errorCode 0 before v7,
    // logStartOffset -1 before v5); the `??` only says so to the type checker.
    const errorCode = body.errorCode ?? 0;
    if (errorCode !== 0) {
      // A top-level error (a fetch-session problem) applies to every partition of the request.
      return positions.map((p) => ({ ...p, errorCode, highWatermark: -1, logStartOffset: -1, records: [], nextOffset: p.offset }));
    }
    const wanted = new Map(positions.map((p) => [`${p.topic}\u0000${p.partition}`, p]));
    const out: PartitionFetch[] = [];
    for (const t of body.responses) {
      const topic: string | undefined = version >= 13 ? names.get(t.topicId ?? ZERO_UUID) : t.topic;
      if (topic === undefined) throw new ClientError(`${conn.address} answered Fetch with unknown topic id ${t.topicId}`);
      for (const p of t.partitions) {
        const pos = wanted.get(`${topic}\u0000${p.partitionIndex}`);
        if (pos === undefined) continue;
        const base = { topic, partition: p.partitionIndex, errorCode: p.errorCode, highWatermark: p.highWatermark, logStartOffset: p.logStartOffset ?? -1 };
        if (p.errorCode !== 0) {
          out.push({ ...base, records: [], nextOffset: pos.offset });
          continue;
        }
        const bytes = receivedRecords(p.records);
        const { records, nextOffset } = decodePartitionRecords(topic, p.partitionIndex, pos.offset, bytes);
        if (nextOffset === pos.offset && bytes !== null && bytes.length >= this.options.partitionMaxBytes && pos.offset < p.highWatermark) {
          throw new ClientError(
            `a record batch in ${topic}-${p.partitionIndex} at offset ${pos.offset} is larger than the ${this.options.partitionMaxBytes}-byte fetch limit`,
            'the batch cannot be read with this limit',
          );
        }
        out.push({ ...base, records, nextOffset });
      }
    }
    return out;
  }
}

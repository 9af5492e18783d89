// Request helpers over RawClient for the reliability suites (crash, limits, disk errors,
// shutdown): create a topic, produce one batch and learn its offsets, read a whole partition
// back. Versions are fixed (CreateTopics v5, Produce v9, Fetch v11, Metadata v9) so every
// field is explicit.

import { buildRecordBatch, parseRecordBatches } from '@sluice/protocol';
import type { RawClient } from './raw-client.ts';

export async function createTopic(client: RawClient, name: string, partitions: number, configs: Record<string, string> = {}): Promise<number> {
  const response = await client.request(19, 5, {
    topics: [
      {
        name,
        numPartitions: partitions,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
      },
    ],
    timeoutMs: 10_000,
    validateOnly: false,
  });
  return response.topics[0].errorCode;
}

export interface ProduceOutcome {
  readonly errorCode: number;
  /** Offset of the first record when errorCode is 0, else -1. */
  readonly baseOffset: number;
  readonly errorMessage: string | null;
}

/** One Produce request carrying one batch of `values` for one partition. */
export async function produce(client: RawClient, topic: string, partition: number, values: readonly string[], acks = -1): Promise<ProduceOutcome> {
  const records = buildRecordBatch({ records: values.map((value) => ({ key: null, value })) });
  return produceRaw(client, topic, partition, records, acks);
}

/** One Produce request with the given record set bytes (valid or not) for one partition. */
export async function produceRaw(client: RawClient, topic: string, partition: number, records: Uint8Array, acks = -1): Promise<ProduceOutcome> {
  const response = await client.request(0, 9, {
    transactionalId: null,
    acks,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const answer = response.responses[0].partitionResponses[0];
  return { errorCode: answer.errorCode, baseOffset: Number(answer.baseOffset), errorMessage: answer.errorMessage };
}

export function fetchRequest(topic: string, partition: number, offset: number, maxWaitMs = 0, maxBytes = 4 << 20) {
  return {
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [],
    rackId: '',
  };
}

export interface FetchedRecord {
  readonly offset: number;
  readonly value: string | null;
}

export interface PartitionContents {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly records: FetchedRecord[];
}

/** Every record of a partition from offset 0 up to the high watermark, CRCs checked. */
export async function readPartition(client: RawClient, topic: string, partition: number): Promise<PartitionContents> {
  const records: FetchedRecord[] = [];
  let offset = 0;
  for (;;) {
    const response = await client.request(1, 11, fetchRequest(topic, partition, offset));
    const answer = response.responses[0].partitions[0];
    if (answer.errorCode !== 0) return { errorCode: answer.errorCode, highWatermark: Number(answer.highWatermark), records };
    const highWatermark = Number(answer.highWatermark);
    const bytes: Uint8Array = answer.records ?? new Uint8Array(0);
    if (bytes.byteLength === 0) {
      if (offset >= highWatermark) return { errorCode: 0, highWatermark, records };
      throw new Error(`${topic}-${partition}: nothing returned at offset ${offset} below the high watermark ${highWatermark}`);
    }
    for (const batch of parseRecordBatches(bytes, { allowTruncatedTail: true })) {
      for (const record of batch.records) {
        if (record.offset < offset) continue; // the batch holding `offset` starts before it
        records.push({ offset: record.offset, value: record.value === null ? null : Buffer.from(record.value).toString() });
      }
      offset = Math.max(offset, Number(batch.baseOffset) + batch.lastOffsetDelta + 1);
    }
    if (offset >= highWatermark) return { errorCode: 0, highWatermark, records };
  }
}

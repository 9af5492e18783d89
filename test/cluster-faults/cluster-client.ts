// Raw protocol requests the harness makes itself (from the clients' namespace): the cluster's
// view (Metadata), creating the workload topic, reading a partition from its leader. Every
// request has a deadline: a paused broker keeps its connections open and never answers.

import { parseRecordBatches } from '@sluice/protocol';
import { RawClient } from '../support/raw-client.ts';
import { fetchRequest } from '../support/requests.ts';

const NO_TOPIC_ID = '00000000000000000000000000000000';

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface PartitionState {
  readonly partition: number;
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly replicas: number[];
  readonly isr: number[];
}

export interface ClusterState {
  readonly brokers: number[];
  readonly controller: number;
  readonly partitions: PartitionState[];
}

export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One request on a fresh connection, closed afterwards (also on timeout). */
export async function requestOnce(endpoint: Endpoint, apiKey: number, version: number, body: object, ms = 3000): Promise<any> {
  const client = await withDeadline(RawClient.connect(endpoint.port, endpoint.host), ms, `connect ${endpoint.host}`);
  try {
    return await withDeadline(client.request(apiKey, version, body, 'fault-harness'), ms, `request ${apiKey} to ${endpoint.host}`);
  } finally {
    client.close();
  }
}

/** The topic's state as `endpoint` sees it. */
export async function clusterState(endpoint: Endpoint, topic: string): Promise<ClusterState> {
  const answer = await requestOnce(endpoint, 3, 12, {
    topics: [{ name: topic, topicId: NO_TOPIC_ID }],
    allowAutoTopicCreation: false,
    includeTopicAuthorizedOperations: false,
  });
  const t = answer.topics[0];
  if (t.errorCode !== 0) throw new Error(`Metadata for ${topic}: error ${t.errorCode}`);
  return {
    brokers: answer.brokers.map((b: { nodeId: number }) => b.nodeId).sort(),
    controller: answer.controllerId,
    partitions: t.partitions
      .map((p: any) => ({
        partition: p.partitionIndex,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch,
        replicas: [...p.replicaNodes].sort(),
        isr: [...p.isrNodes].sort(),
      }))
      .sort((a: PartitionState, b: PartitionState) => a.partition - b.partition),
  };
}

/** The first broker that answers Metadata. */
export async function anyState(endpoints: readonly Endpoint[], topic: string): Promise<ClusterState> {
  let last: unknown;
  for (const e of endpoints) {
    try {
      return await clusterState(e, topic);
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

export async function createTopic(endpoint: Endpoint, topic: string, partitions: number, replicationFactor: number, minIsr: number): Promise<void> {
  const answer = await requestOnce(
    endpoint,
    19,
    7,
    {
      topics: [
        { name: topic, numPartitions: partitions, replicationFactor, assignments: [], configs: [{ name: 'min.insync.replicas', value: String(minIsr) }] },
      ],
      timeoutMs: 10_000,
      validateOnly: false,
    },
    15_000,
  );
  const code = answer.topics[0].errorCode;
  if (code !== 0) throw new Error(`CreateTopics ${topic}: error ${code} ${answer.topics[0].errorMessage ?? ''}`);
}

export interface Fetched {
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly records: Array<{ offset: number; value: string; key: string | null }>;
  /** The offset after the last record returned. */
  readonly next: number;
}

/** One consumer Fetch (read_uncommitted, up to the high watermark) from `offset`. */
export async function fetchFrom(client: RawClient, topic: string, partition: number, offset: number, maxWaitMs: number, ms = 3000): Promise<Fetched> {
  const response = await withDeadline(client.request(1, 11, fetchRequest(topic, partition, offset, maxWaitMs, 1 << 20), 'fault-harness'), ms, 'fetch');
  const answer = response.responses[0].partitions[0];
  const highWatermark = Number(answer.highWatermark);
  const records: Array<{ offset: number; value: string; key: string | null }> = [];
  let next = offset;
  if (answer.errorCode !== 0) return { errorCode: answer.errorCode, highWatermark, records, next };
  const bytes: Uint8Array = answer.records ?? new Uint8Array(0);
  for (const batch of parseRecordBatches(bytes, { allowTruncatedTail: true })) {
    for (const record of batch.records) {
      if (record.offset < offset) continue;
      records.push({
        offset: record.offset,
        value: record.value === null ? '' : Buffer.from(record.value).toString(),
        key: record.key === null ? null : Buffer.from(record.key).toString(),
      });
    }
    next = Math.max(next, Number(batch.baseOffset) + batch.lastOffsetDelta + 1);
  }
  return { errorCode: 0, highWatermark, records, next };
}

/** Every record of a partition up to its high watermark, from the leader `endpoint`. */
export async function readAll(endpoint: Endpoint, topic: string, partition: number): Promise<Array<{ offset: number; value: string; key: string | null }>> {
  const client = await withDeadline(RawClient.connect(endpoint.port, endpoint.host), 3000, 'connect');
  try {
    const all: Array<{ offset: number; value: string; key: string | null }> = [];
    let offset = 0;
    for (;;) {
      const got = await fetchFrom(client, topic, partition, offset, 0, 10_000);
      if (got.errorCode !== 0) throw new Error(`final read ${topic}-${partition} at ${offset}: error ${got.errorCode}`);
      all.push(...got.records);
      if (got.next >= got.highWatermark || (got.records.length === 0 && got.next === offset)) {
        if (got.next < got.highWatermark)
          throw new Error(`final read ${topic}-${partition}: nothing at ${offset} below the high watermark ${got.highWatermark}`);
        return all;
      }
      offset = got.next;
    }
  } finally {
    client.close();
  }
}

/** One record of a transactional log as the final read sees it (read_uncommitted, batches whole). */
export interface LogRecord {
  readonly offset: number;
  readonly value: string;
  readonly producerId: number;
  readonly transactional: boolean;
  /** A control record: its marker (0 abort, 1 commit), else null. */
  readonly marker: number | null;
}

/**
 * Every record and control marker of a partition up to its high watermark, from the leader, and
 * the partition's last stable offset (a read_committed Fetch): what read_committed may show.
 */
export async function readLog(
  endpoint: Endpoint,
  topic: string,
  partition: number,
): Promise<{ records: LogRecord[]; lastStable: number; highWatermark: number }> {
  const client = await withDeadline(RawClient.connect(endpoint.port, endpoint.host), 3000, 'connect');
  try {
    const records: LogRecord[] = [];
    let offset = 0;
    let highWatermark = 0;
    for (;;) {
      const response = await withDeadline(client.request(1, 11, fetchRequest(topic, partition, offset, 0, 1 << 20), 'fault-harness'), 10_000, 'fetch');
      const answer = response.responses[0].partitions[0];
      if (answer.errorCode !== 0) throw new Error(`final read ${topic}-${partition} at ${offset}: error ${answer.errorCode}`);
      highWatermark = Number(answer.highWatermark);
      let next = offset;
      for (const batch of parseRecordBatches(answer.records ?? new Uint8Array(0), { allowTruncatedTail: true })) {
        for (const r of batch.records) {
          if (r.offset < offset) continue;
          // A control record's key is (version int16, type int16): type 0 abort, 1 commit.
          const marker = batch.isControl && r.key !== null && r.key.length >= 4 ? (r.key[2] << 8) | r.key[3] : null;
          const value = r.value === null ? '' : Buffer.from(r.value).toString();
          records.push({ offset: r.offset, value, producerId: Number(batch.producerId), transactional: batch.transactional, marker });
        }
        next = Math.max(next, Number(batch.baseOffset) + batch.lastOffsetDelta + 1);
      }
      if (next >= highWatermark) break;
      if (next === offset) throw new Error(`final read ${topic}-${partition}: nothing at ${offset} below the high watermark ${highWatermark}`);
      offset = next;
    }
    const committed = await withDeadline(
      client.request(1, 11, { ...fetchRequest(topic, partition, highWatermark, 0, 1024), isolationLevel: 1 }, 'fault-harness'),
      10_000,
      'fetch',
    );
    const lastStable = Number(committed.responses[0].partitions[0].lastStableOffset);
    return { records, lastStable, highWatermark };
  } finally {
    client.close();
  }
}

/** Moves partitions onto new replica sets (AlterPartitionReassignments); throws on any error. */
export async function reassign(endpoint: Endpoint, moves: ReadonlyArray<{ topic: string; partition: number; replicas: number[] }>): Promise<void> {
  const topics = new Map<string, Array<{ partitionIndex: number; replicas: number[] }>>();
  for (const m of moves) topics.set(m.topic, [...(topics.get(m.topic) ?? []), { partitionIndex: m.partition, replicas: m.replicas }]);
  const answer = await requestOnce(endpoint, 45, 0, { timeoutMs: 10_000, topics: [...topics].map(([name, partitions]) => ({ name, partitions })) }, 15_000);
  if (answer.errorCode !== 0) throw new Error(`AlterPartitionReassignments: error ${answer.errorCode} ${answer.errorMessage ?? ''}`);
  for (const t of answer.responses)
    for (const p of t.partitions)
      if (p.errorCode !== 0) throw new Error(`AlterPartitionReassignments ${t.name}-${p.partitionIndex}: error ${p.errorCode} ${p.errorMessage ?? ''}`);
}

/**
 * One read_committed Fetch from `offset`: the records a Kafka client would hand over — the
 * broker's answer up to the last stable offset, minus the transactions it lists as aborted (a
 * producer's data batches from the aborted transaction's first offset until its ABORT marker).
 */
export async function fetchCommitted(
  client: RawClient,
  topic: string,
  partition: number,
  offset: number,
  maxWaitMs: number,
): Promise<{ errorCode: number; records: Array<{ offset: number; value: string }>; next: number; lastStable: number }> {
  const response = await withDeadline(
    client.request(1, 11, { ...fetchRequest(topic, partition, offset, maxWaitMs, 1 << 20), isolationLevel: 1 }, 'fault-harness'),
    10_000,
    'fetch',
  );
  const answer = response.responses[0].partitions[0];
  const records: Array<{ offset: number; value: string }> = [];
  if (answer.errorCode !== 0) return { errorCode: answer.errorCode, records, next: offset, lastStable: -1 };
  const aborted = [...(answer.abortedTransactions ?? [])]
    .map((a: { producerId: unknown; firstOffset: unknown }) => ({ producerId: Number(a.producerId), firstOffset: Number(a.firstOffset) }))
    .sort((a, b) => a.firstOffset - b.firstOffset);
  const active = new Set<number>();
  let next = offset;
  for (const batch of parseRecordBatches(answer.records ?? new Uint8Array(0), { allowTruncatedTail: true })) {
    const last = Number(batch.baseOffset) + batch.lastOffsetDelta;
    while (aborted.length > 0 && aborted[0].firstOffset <= last) active.add(aborted.shift()!.producerId);
    next = Math.max(next, last + 1);
    const producerId = Number(batch.producerId);
    if (batch.isControl) {
      const key = batch.records[0]?.key;
      if (key !== null && key !== undefined && key.length >= 4 && ((key[2] << 8) | key[3]) === 0) active.delete(producerId);
      continue;
    }
    if (batch.transactional && active.has(producerId)) continue;
    for (const r of batch.records) if (r.offset >= offset) records.push({ offset: r.offset, value: r.value === null ? '' : Buffer.from(r.value).toString() });
  }
  return { errorCode: 0, records, next, lastStable: Number(answer.lastStableOffset) };
}

/** What a read_committed consumer reads from a partition, from offset 0 up to the last stable offset (fetchCommitted). */
export async function readCommitted(endpoint: Endpoint, topic: string, partition: number): Promise<Array<{ offset: number; value: string }>> {
  const client = await withDeadline(RawClient.connect(endpoint.port, endpoint.host), 3000, 'connect');
  try {
    const out: Array<{ offset: number; value: string }> = [];
    let offset = 0;
    for (;;) {
      const got = await fetchCommitted(client, topic, partition, offset, 0);
      if (got.errorCode !== 0) throw new Error(`read_committed ${topic}-${partition} at ${offset}: error ${got.errorCode}`);
      out.push(...got.records);
      if (got.next >= got.lastStable) return out;
      if (got.next === offset) throw new Error(`read_committed ${topic}-${partition}: nothing at ${offset} below the last stable offset ${got.lastStable}`);
      offset = got.next;
    }
  } finally {
    client.close();
  }
}

// A small batching producer for one topic (`sluice produce` runs on it). Records collect in one
// open batch per partition; a batch closes when it reaches `batchBytes` or `lingerMs` after its
// first record; closed batches go out as RecordBatch v2 (buildRecordBatch, compressed by the
// client as Kafka producers do), one batch per partition per Produce request (Kafka requires
// exactly one from Produce v3 on).
//
// Ordering and bounds: at most one Produce request in flight per broker, so a retried batch is
// re-sent before any later batch of its partition and per-partition order holds without
// idempotence. Buffered bytes (open + waiting + in flight) are capped at `bufferBytes`: send()
// waits for acknowledgements when the cap is reached.
//
// Concurrency contract: one caller; send() calls are awaited one after another; flush() once at
// the end (it may be called again after more sends).

import {
  ApiKey,
  buildRecordBatch,
  type Compression,
  type Encodable,
  ErrorCode,
  type ProduceRequest,
  type ProduceResponse,
  type ProduceResponseResponsesPartitionResponses,
} from '@sluice/protocol';
import { ClientError, ConnectionError, KafkaApiError } from './errors.ts';
import { type KafkaClient, sleep, type TopicInfo } from './kafka-client.ts';
import { partitionForKey, StickyPartitioner } from './partitioner.ts';

export interface ProducerRecord {
  readonly key: Uint8Array | null;
  readonly value: Uint8Array | null;
  readonly headers: ReadonlyArray<{ readonly key: string; readonly value: Uint8Array | null }>;
  /** ms since the epoch; default: when send() is called. */
  readonly timestamp?: number;
}

export interface ProducerOptions {
  /** -1 (all in-sync replicas), 0 (no answer), 1 (leader only). */
  readonly acks: -1 | 0 | 1;
  readonly compression: Compression;
  readonly lingerMs: number;
  readonly batchBytes: number;
  readonly bufferBytes: number;
  /** Produce's timeoutMs: how long the broker may wait for acks=-1. */
  readonly ackTimeoutMs: number;
  /** Attempts after the first for a batch that failed with a retriable error. */
  readonly retries: number;
  readonly retryBackoffMs: number;
  /** Send every record to this partition instead of partitioning. */
  readonly partition?: number;
}

export const DEFAULT_PRODUCER_OPTIONS: ProducerOptions = {
  acks: -1,
  compression: 'none',
  lingerMs: 5,
  batchBytes: 256 * 1024,
  bufferBytes: 32 * 1024 * 1024,
  ackTimeoutMs: 30_000,
  retries: 5,
  retryBackoffMs: 100,
};

// Per-record framing bytes beyond key, value and headers (length, attributes, deltas, counts):
// an upper bound for batch sizing, not an exact count.
const RECORD_OVERHEAD_BYTES = 21;

interface Batch {
  readonly partition: number;
  readonly records: ProducerRecord[];
  bytes: number;
  attempts: number;
}

export interface ProducerStats {
  /** Records handed to send(). */
  recordsQueued: number;
  /** Records the broker acknowledged (with acks=0: records written to the socket). */
  recordsAcked: number;
  /** Key + value + header bytes of acknowledged records. */
  bytesAcked: number;
  /** Produce requests sent, retries included. */
  requests: number;
}

function recordBytes(r: ProducerRecord): number {
  let n = RECORD_OVERHEAD_BYTES + (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const h of r.headers) n += h.key.length * 3 + (h.value?.length ?? 0) + 2;
  return n;
}

export class Producer {
  readonly topic: string;
  readonly stats: ProducerStats = { recordsQueued: 0, recordsAcked: 0, bytesAcked: 0, requests: 0 };
  private readonly client: KafkaClient;
  private readonly options: ProducerOptions;
  private readonly sticky = new StickyPartitioner();
  private info: TopicInfo;
  private readonly open = new Map<number, Batch>();
  /** Closed batches waiting to be sent, FIFO per partition. */
  private readonly ready = new Map<number, Batch[]>();
  /** Leaders with a Produce request in flight. */
  private readonly busy = new Set<number>();
  private buffered = 0;
  private lingerTimer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  private progressWaiters: Array<() => void> = [];

  private constructor(client: KafkaClient, info: TopicInfo, options: ProducerOptions) {
    this.client = client;
    this.topic = info.name;
    this.info = info;
    this.options = options;
    const p = options.partition;
    if (p !== undefined && (p < 0 || p >= info.partitions.length)) {
      throw new ClientError(
        `topic ${JSON.stringify(info.name)} has no partition ${p} (it has ${info.partitions.length})`,
        'pick a partition from `sluice topics describe`',
      );
    }
  }

  /** Looks the topic up (auto-creating it where the broker allows, as Kafka's producer does). */
  static async create(client: KafkaClient, topic: string, options: Partial<ProducerOptions> = {}): Promise<Producer> {
    const info = await client.topic(topic, { allowAutoTopicCreation: true });
    return new Producer(client, info, { ...DEFAULT_PRODUCER_OPTIONS, ...options });
  }

  get partitionCount(): number {
    return this.info.partitions.length;
  }

  /** Queues a record; waits while the buffer is full. Throws the producer's failure, if any. */
  async send(record: ProducerRecord): Promise<void> {
    if (this.failure !== null) throw this.failure;
    const size = recordBytes(record);
    while (this.buffered > 0 && this.buffered + size > this.options.bufferBytes) {
      await this.waitForProgress();
      if (this.failure !== null) throw this.failure;
    }
    const stamped: ProducerRecord = record.timestamp === undefined ? { ...record, timestamp: Date.now() } : record;
    const partition = this.pickPartition(stamped);
    let batch = this.open.get(partition);
    if (batch !== undefined && batch.bytes + size > this.options.batchBytes && batch.records.length > 0) {
      this.closeBatch(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = { partition, records: [], bytes: 0, attempts: 0 };
      this.open.set(partition, batch);
    }
    batch.records.push(stamped);
    batch.bytes += size;
    this.buffered += size;
    this.stats.recordsQueued++;
    if (batch.bytes >= this.options.batchBytes) this.closeBatch(batch);
    else if (this.lingerTimer === null) this.lingerTimer = setTimeout(() => this.lingerExpired(), this.options.lingerMs);
    this.pump();
  }

  /** Sends everything queued and waits until it is acknowledged; throws the first failure. */
  async flush(): Promise<void> {
    this.closeAll();
    while (this.failure === null && (this.ready.size > 0 || this.busy.size > 0)) {
      this.pump();
      await this.waitForProgress();
    }
    if (this.failure !== null) throw this.failure;
  }

  // --- internals ---------------------------------------------------------------------------

  private pickPartition(r: ProducerRecord): number {
    if (this.options.partition !== undefined) return this.options.partition;
    const count = this.info.partitions.length;
    return r.key !== null ? partitionForKey(r.key, count) : this.sticky.partition(count);
  }

  private closeBatch(batch: Batch): void {
    this.open.delete(batch.partition);
    let queue = this.ready.get(batch.partition);
    if (queue === undefined) this.ready.set(batch.partition, (queue = []));
    queue.push(batch);
    this.sticky.batchClosed(batch.partition, this.info.partitions.length);
  }

  private closeAll(): void {
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    for (const b of [...this.open.values()]) this.closeBatch(b);
  }

  private lingerExpired(): void {
    this.lingerTimer = null;
    this.closeAll();
    this.pump();
  }

  private waitForProgress(): Promise<void> {
    return new Promise((resolve) => this.progressWaiters.push(resolve));
  }

  private progress(): void {
    const waiters = this.progressWaiters;
    this.progressWaiters = [];
    for (const w of waiters) w();
  }

  private leaderOf(partition: number): number {
    return this.info.partitions.find((p) => p.partition === partition)?.leaderId ?? -1;
  }

  /** Starts one Produce request for each idle leader that has ready batches. */
  private pump(): void {
    if (this.failure !== null) return;
    const byLeader = new Map<number, Batch[]>();
    for (const [partition, queue] of this.ready) {
      const leader = this.leaderOf(partition);
      if (this.busy.has(leader)) continue;
      let list = byLeader.get(leader);
      if (list === undefined) byLeader.set(leader, (list = []));
      list.push(queue.shift()!);
      if (queue.length === 0) this.ready.delete(partition);
    }
    for (const [leader, batches] of byLeader) {
      this.busy.add(leader);
      this.produce(leader, batches).then(
        () => {
          this.busy.delete(leader);
          this.progress();
          this.pump();
        },
        (err: unknown) => {
          this.busy.delete(leader);
          this.failure ??= err as Error;
          this.progress();
        },
      );
    }
  }

  private async produce(leader: number, batches: Batch[]): Promise<void> {
    if (leader < 0) {
      await this.retryOrFail(batches, new KafkaApiError('produce to', `topic ${JSON.stringify(this.topic)}`, ErrorCode.LEADER_NOT_AVAILABLE));
      return;
    }
    const body: Encodable<ProduceRequest> = {
      transactionalId: null,
      acks: this.options.acks,
      timeoutMs: this.options.ackTimeoutMs,
      topicData: [
        {
          name: this.topic,
          partitionData: batches.map((b) => ({
            index: b.partition,
            records: buildRecordBatch({
              records: b.records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp })),
              compression: this.options.compression,
            }),
          })),
        },
      ],
    };
    this.stats.requests++;
    let response: ProduceResponse;
    try {
      const conn = await this.client.node(leader);
      if (this.options.acks === 0) {
        await conn.send(ApiKey.Produce, body);
        for (const b of batches) this.acknowledge(b);
        return;
      }
      response = await conn.request(ApiKey.Produce, body, { timeoutMs: this.options.ackTimeoutMs + 30_000 });
    } catch (err) {
      if (err instanceof ConnectionError) {
        await this.retryOrFail(batches, err);
        return;
      }
      throw err;
    }
    const results = new Map<number, ProduceResponseResponsesPartitionResponses>();
    for (const t of response.responses) for (const p of t.partitionResponses) results.set(p.index, p);
    const retry: Batch[] = [];
    let retryError: Error | null = null;
    for (const b of batches) {
      const r = results.get(b.partition);
      if (r === undefined) throw new ClientError(`the broker left ${this.topic}-${b.partition} out of its Produce answer`);
      if (r.errorCode === 0) {
        this.acknowledge(b);
        continue;
      }
      const err = new KafkaApiError('produce to', `${this.topic}-${b.partition}`, r.errorCode, r.errorMessage ?? null);
      if (!err.retriable) throw err;
      retry.push(b);
      retryError = err;
    }
    if (retry.length > 0) await this.retryOrFail(retry, retryError!);
  }

  private acknowledge(b: Batch): void {
    this.buffered -= b.bytes;
    this.stats.recordsAcked += b.records.length;
    for (const r of b.records) this.stats.bytesAcked += (r.key?.length ?? 0) + (r.value?.length ?? 0);
  }

  /**
   * Puts batches back at the front of their partitions' queues, then backs off and refreshes the
   * leaders. They go back first so no later batch of their partitions can overtake them (this
   * leader stays busy until we return, so nothing is sent to it meanwhile).
   */
  private async retryOrFail(batches: Batch[], err: Error): Promise<void> {
    for (const b of batches) if (b.attempts >= this.options.retries) throw err;
    for (const b of batches.slice().reverse()) {
      b.attempts++;
      let queue = this.ready.get(b.partition);
      if (queue === undefined) this.ready.set(b.partition, (queue = []));
      queue.unshift(b);
    }
    await sleep(this.options.retryBackoffMs);
    this.info = await this.client.topic(this.topic, { waitMs: this.options.retryBackoffMs * 10 });
  }
}

// The follower's side of replication: one fetcher per leader broker, fetching every partition
// this broker follows on that leader with Kafka's follower Fetch (replica id = this node, read up
// to the leader's log end), through @sluice/client's connection. Fetched batches are appended
// with the leader's offsets and epochs (Partition.appendAsFollower); the leader's high watermark
// is followed as far as the local log reaches. The next fetch offset is the local log end, which
// is how the leader learns this follower's progress.
//
// The set of followed partitions comes from the view (cluster-node.ts updates it); when a
// partition's leader changes, the fetcher of the new leader takes it over after the partition
// was truncated to its high watermark.

import { BrokerConnection } from '@sluice/client';
import { ErrorCode, type FetchRequestTopics } from '@sluice/protocol';
import type { Logger } from '../logger.ts';
import type { Partition } from '../partition.ts';
import type { EndpointRecord } from './keys.ts';

const FETCH_API_KEY = 1;
/** v12: topics by name, flexible, the diverging-epoch field exists (not used yet). */
const FETCH_VERSION = 12;
const RETRY_MS = 500;

export interface FetcherSettings {
  readonly nodeId: number;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  readonly requestTimeoutMs: number;
}

export interface FollowedPartition {
  readonly partition: Partition;
  /** The leader epoch the follower knows: the leader fences older ones, and answers newer ones UNKNOWN_LEADER_EPOCH. */
  readonly leaderEpoch: number;
}

/** Fetches from one leader broker while it has partitions to give. */
export class LeaderFetcher {
  readonly leaderId: number;
  private endpoint: EndpointRecord;
  private readonly settings: FetcherSettings;
  private readonly logger: Logger;
  private partitions = new Map<Partition, FollowedPartition>();
  /** Partitions whose batches could not be mirrored: skipped until their epoch changes. */
  private readonly failed = new Map<Partition, number>();
  private connection: BrokerConnection | null = null;
  private running = false;
  private wake: (() => void) | null = null;
  /** Bytes appended since start (tests, metrics). */
  bytesFetched = 0;

  constructor(leaderId: number, endpoint: EndpointRecord, settings: FetcherSettings, logger: Logger) {
    this.leaderId = leaderId;
    this.endpoint = endpoint;
    this.settings = settings;
    this.logger = logger.child({ leader: leaderId });
  }

  /** The partitions to follow on this leader (replaces the previous set). */
  assign(partitions: readonly FollowedPartition[], endpoint: EndpointRecord): void {
    if (endpoint.host !== this.endpoint.host || endpoint.port !== this.endpoint.port) {
      this.endpoint = endpoint;
      this.connection?.close();
      this.connection = null;
    }
    this.partitions = new Map(partitions.map((p) => [p.partition, p]));
    for (const [p, epoch] of this.failed) if (this.partitions.get(p)?.leaderEpoch !== epoch) this.failed.delete(p);
    this.wake?.();
  }

  get size(): number {
    return this.partitions.size;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.connection?.close();
    this.connection = null;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const followed = [...this.partitions.values()].filter((f) => !f.partition.offline && !this.failed.has(f.partition));
      if (followed.length === 0) {
        await this.sleep(RETRY_MS);
        continue;
      }
      try {
        await this.fetchOnce(followed);
      } catch (err) {
        if (!this.running) return;
        this.logger.debug({ err }, 'replica fetch failed; retrying');
        this.connection?.close();
        this.connection = null;
        await this.sleep(RETRY_MS);
      }
    }
  }

  private async fetchOnce(followed: readonly FollowedPartition[]): Promise<void> {
    const connection = await this.connect();
    const byTopic = new Map<string, FetchRequestTopics>();
    for (const f of followed) {
      const name = f.partition.topic.name;
      if (!byTopic.has(name)) byTopic.set(name, { topic: name, topicId: f.partition.topic.id, partitions: [] });
      byTopic.get(name)!.partitions.push({
        partition: f.partition.index,
        currentLeaderEpoch: f.leaderEpoch,
        fetchOffset: f.partition.logEndOffset,
        lastFetchedEpoch: -1,
        logStartOffset: f.partition.logStartOffset,
        partitionMaxBytes: this.settings.partitionMaxBytes,
      });
    }
    const response = await connection.request(
      FETCH_API_KEY,
      {
        replicaId: this.settings.nodeId,
        maxWaitMs: this.settings.maxWaitMs,
        minBytes: 1,
        maxBytes: this.settings.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic.values()],
        forgottenTopicsData: [],
        rackId: '',
      },
      { version: FETCH_VERSION, timeoutMs: this.settings.requestTimeoutMs + this.settings.maxWaitMs },
    );
    if (response.errorCode !== ErrorCode.NONE) throw new Error(`replica fetch from ${this.leaderId} failed with error ${response.errorCode}`);
    const now = Date.now();
    let progressed = false;
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const f = followed.find((x) => x.partition.topic.name === t.topic && x.partition.index === p.partitionIndex);
        if (f === undefined || this.partitions.get(f.partition) !== f) continue; // reassigned meanwhile
        if (p.errorCode !== ErrorCode.NONE) {
          // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH: the view will move it.
          this.logger.debug({ topic: t.topic, partition: p.partitionIndex, errorCode: p.errorCode }, 'replica fetch answered an error');
          continue;
        }
        const records = p.records;
        if (records instanceof Uint8Array && records.byteLength > 0) {
          try {
            if (f.partition.appendAsFollower(records, now) > 0) {
              this.bytesFetched += records.byteLength;
              progressed = true;
            }
          } catch (err) {
            this.failed.set(f.partition, f.leaderEpoch);
            this.logger.error({ topic: t.topic, partition: p.partitionIndex, err }, 'cannot mirror the leader\'s log; this replica stops following it until its leader changes');
            continue;
          }
        }
        f.partition.followHighWatermark(Number(p.highWatermark));
      }
    }
    // Nothing new and the leader did not wait (e.g. errors): do not spin.
    if (!progressed && this.settings.maxWaitMs === 0) await this.sleep(50);
  }

  private async connect(): Promise<BrokerConnection> {
    if (this.connection !== null) return this.connection;
    this.connection = await BrokerConnection.open(this.endpoint.host, this.endpoint.port, {
      clientId: `sluice-replica-${this.settings.nodeId}`,
      connectTimeoutMs: this.settings.requestTimeoutMs,
      requestTimeoutMs: this.settings.requestTimeoutMs,
    });
    return this.connection;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}

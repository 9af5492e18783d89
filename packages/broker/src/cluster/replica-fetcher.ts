// The follower's side of replication: one fetcher per leader broker, fetching every partition
// this broker follows on that leader with Kafka's follower Fetch (replica id = this node, read up
// to the leader's log end), through @sluice/client's connection. Fetched batches are appended
// with the leader's offsets and epochs (Partition.appendAsFollower); the leader's high watermark
// is followed as far as the local log reaches. The next fetch offset is the local log end, which
// is how the leader learns this follower's progress.
//
// Replication throttle (Kafka's follower ReplicationQuotaManager, ../quotas/replication-quota.ts):
// a partition throttled on this follower (its topic's follower.replication.throttled.replicas)
// that has not caught up with the leader's high watermark is left out of the fetch while the
// follower quota is exceeded; the bytes fetched for throttled partitions are recorded against
// follower.replication.throttled.rate. With every partition held back the fetcher waits until the
// measured rate is back under the bound.
//
// The set of followed partitions comes from the view (cluster-node.ts updates it); when a
// partition's leader changes, the fetcher of the new leader takes it over after the partition
// was truncated to its high watermark.

import { BrokerConnection, type ConnectionOptions } from '@sluice/client';
import { ErrorCode, type FetchRequestTopics } from '@sluice/protocol';
import type { Logger } from '../logger.ts';
import type { LeaderEpochCache } from '../leader-epoch-cache.ts';
import type { Partition } from '../partition.ts';
import type { ReplicationQuota } from '../quotas/replication-quota.ts';
import type { EndpointRecord } from './keys.ts';

const FETCH_API_KEY = 1;
const OFFSET_FOR_LEADER_EPOCH_API_KEY = 23;
/** v3: the replica id; v4 flexible. */
const OFFSET_FOR_LEADER_EPOCH_VERSION = 3;
/** v12: topics by name, flexible, the diverging-epoch field exists (not used yet). */
const FETCH_VERSION = 12;
const RETRY_MS = 500;

export interface FetcherSettings {
  readonly nodeId: number;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
  readonly partitionMaxBytes: number;
  readonly requestTimeoutMs: number;
  /** TLS / SASL of the inter-broker listener (inter-broker-security.ts). */
  readonly security?: Pick<ConnectionOptions, 'tls' | 'sasl'>;
  /** The follower replication quota of this broker (null: none yet), read at every fetch. */
  readonly quota?: () => ReplicationQuota | null;
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
  /**
   * Partitions whose log ends below the leader's log start (a new or wiped replica of a log
   * retention or DeleteRecords trimmed): fetched from the leader's log start instead, their
   * stale records dropped (Kafka's truncateFullyAndStartAt). Cleared once the log reaches it.
   */
  private readonly resumeAt = new Map<Partition, number>();
  /** Partitions whose batches could not be mirrored: skipped until their epoch changes. */
  private readonly failed = new Map<Partition, number>();
  /**
   * Partitions that must find where they diverge from this leader before fetching: newly
   * followed here, or followed in a new leader epoch.
   */
  private readonly divergenceUnknown = new Set<Partition>();
  /** Partitions whose log end reached the leader's high watermark at the last fetch (Kafka's isReplicaInSync: lag 0). */
  private readonly caughtUp = new Set<Partition>();
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
    const before = this.partitions;
    this.partitions = new Map(partitions.map((p) => [p.partition, p]));
    for (const [p, f] of this.partitions) if (before.get(p)?.leaderEpoch !== f.leaderEpoch) this.divergenceUnknown.add(p);
    for (const p of [...this.divergenceUnknown]) if (!this.partitions.has(p)) this.divergenceUnknown.delete(p);
    for (const p of [...this.resumeAt.keys()]) if (!this.partitions.has(p)) this.resumeAt.delete(p);
    for (const p of [...this.caughtUp]) if (!this.partitions.has(p)) this.caughtUp.delete(p);
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
        const unknown = followed.filter((f) => this.divergenceUnknown.has(f.partition));
        if (unknown.length > 0) {
          await this.truncateToLeader(unknown);
          continue;
        }
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

  private async fetchOnce(all: readonly FollowedPartition[]): Promise<void> {
    const quota = this.settings.quota?.() ?? null;
    const started = Date.now();
    // Kafka's shouldFollowerThrottle: not caught up, throttled here, the quota exceeded.
    const followed = quota === null ? all : all.filter((f) => !quota.holdsBack(f.partition, this.caughtUp.has(f.partition), started));
    if (followed.length === 0) {
      await this.sleep(Math.max(50, quota!.delayMs(started)));
      return;
    }
    const connection = await this.connect();
    const byTopic = new Map<string, FetchRequestTopics>();
    for (const f of followed) {
      const name = f.partition.topic.name;
      if (!byTopic.has(name)) byTopic.set(name, { topic: name, topicId: f.partition.topic.id, partitions: [] });
      byTopic.get(name)!.partitions.push({
        partition: f.partition.index,
        currentLeaderEpoch: f.leaderEpoch,
        fetchOffset: Math.max(f.partition.logEndOffset, this.resumeAt.get(f.partition) ?? 0),
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
    let noSpace = false;
    for (const t of response.responses) {
      for (const p of t.partitions) {
        const f = followed.find((x) => x.partition.topic.name === t.topic && x.partition.index === p.partitionIndex);
        if (f === undefined || this.partitions.get(f.partition) !== f) continue; // reassigned meanwhile
        const leaderLogStart = Number(p.logStartOffset);
        if (p.errorCode === ErrorCode.OFFSET_OUT_OF_RANGE && leaderLogStart > f.partition.logEndOffset) {
          // Everything this replica has is below what the leader keeps: drop it and mirror the
          // leader from its log start (the follower append accepts the jump in offsets).
          this.logger.info(
            { topic: t.topic, partition: p.partitionIndex, leaderLogStart },
            "this replica ends below the leader's log start; fetching from there",
          );
          f.partition.truncateTo(f.partition.logStartOffset);
          this.resumeAt.set(f.partition, leaderLogStart);
          progressed = true;
          continue;
        }
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
            if (quota?.isThrottled(f.partition)) quota.record(records.byteLength, now);
          } catch (err) {
            if ((err as { code?: unknown }).code === 'NO_SPACE') {
              // ENOSPC: the log wrote nothing of the refused batch and goes on once there is
              // space, so this is no divergence: fetch it again from the log end, after a pause.
              this.logger.warn({ topic: t.topic, partition: p.partitionIndex, err }, 'no space to mirror the leader; retrying');
              noSpace = true;
              continue;
            }
            this.failed.set(f.partition, f.leaderEpoch);
            this.logger.error(
              { topic: t.topic, partition: p.partitionIndex, err },
              "cannot mirror the leader's log; this replica stops following it until its leader changes",
            );
            continue;
          }
        }
        const resume = this.resumeAt.get(f.partition);
        if (resume !== undefined && f.partition.logEndOffset >= resume) this.resumeAt.delete(f.partition);
        // The leader's log start (retention, DeleteRecords) moves this replica's, as in Kafka.
        if (leaderLogStart > f.partition.logStartOffset && leaderLogStart <= f.partition.logEndOffset) {
          f.partition.log.deleteRecordsBefore(leaderLogStart);
          f.partition.notifyChanged();
        }
        f.partition.followHighWatermark(Number(p.highWatermark));
        if (f.partition.logEndOffset >= Number(p.highWatermark)) this.caughtUp.add(f.partition);
        else this.caughtUp.delete(f.partition);
      }
    }
    if (noSpace) await this.sleep(RETRY_MS);
    // Nothing new and the leader did not wait (e.g. errors): do not spin.
    else if (!progressed && this.settings.maxWaitMs === 0) await this.sleep(50);
  }

  /**
   * KIP-279: asks the leader where this follower's latest epoch ends in the leader's log and
   * truncates to that (never past its own end of that epoch); a follower with no epoch history,
   * or a leader that does not know the epoch, falls back to the high watermark. Partitions the
   * leader refuses (not leader yet, fenced epoch) stay pending and are asked again.
   */
  private async truncateToLeader(followed: readonly FollowedPartition[]): Promise<void> {
    const connection = await this.connect();
    const byTopic = new Map<string, Array<{ partition: number; currentLeaderEpoch: number; leaderEpoch: number }>>();
    const noHistory: FollowedPartition[] = [];
    for (const f of followed) {
      const latest = f.partition.epochs.latestEpoch;
      if (latest < 0) {
        noHistory.push(f);
        continue;
      }
      const name = f.partition.topic.name;
      if (!byTopic.has(name)) byTopic.set(name, []);
      byTopic.get(name)!.push({ partition: f.partition.index, currentLeaderEpoch: f.leaderEpoch, leaderEpoch: latest });
    }
    for (const f of noHistory) {
      f.partition.truncateToHighWatermark();
      this.divergenceUnknown.delete(f.partition);
    }
    if (byTopic.size === 0) return;
    const response = await connection.request(
      OFFSET_FOR_LEADER_EPOCH_API_KEY,
      { replicaId: this.settings.nodeId, topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) },
      { version: OFFSET_FOR_LEADER_EPOCH_VERSION },
    );
    let refused = false;
    for (const t of response.topics) {
      for (const p of t.partitions) {
        const f = followed.find((x) => x.partition.topic.name === t.topic && x.partition.index === p.partition);
        if (f === undefined || this.partitions.get(f.partition) !== f) continue;
        if (p.errorCode !== ErrorCode.NONE) {
          refused = true;
          continue;
        }
        const partition = f.partition;
        const before = partition.logEndOffset;
        partition.truncateTo(divergenceOffset(partition.epochs, before, partition.highWatermark, partition.logStartOffset, p));
        if (partition.logEndOffset < before)
          this.logger.info(
            { topic: t.topic, partition: p.partition, from: before, to: partition.logEndOffset, leaderEpoch: p.leaderEpoch },
            "truncated to where the leader's log diverges",
          );
        this.divergenceUnknown.delete(partition);
      }
    }
    if (refused) await this.sleep(RETRY_MS);
  }

  private async connect(): Promise<BrokerConnection> {
    if (this.connection !== null) return this.connection;
    this.connection = await BrokerConnection.open(this.endpoint.host, this.endpoint.port, {
      clientId: `sluice-replica-${this.settings.nodeId}`,
      connectTimeoutMs: this.settings.requestTimeoutMs,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      ...this.settings.security,
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

/**
 * Where a follower's log stops agreeing with its leader's, from the leader's OffsetForLeaderEpoch
 * answer for the follower's latest epoch (KIP-279): the end the leader gives, never past the
 * follower's own end; when the leader answers about an older epoch, never past the follower's end
 * of that epoch either (what follows it in the follower's log is a history the leader never had).
 * A leader that knows no such epoch (-1) leaves only the high watermark as certain.
 */
export function divergenceOffset(
  epochs: LeaderEpochCache,
  logEnd: number,
  highWatermark: number,
  logStart: number,
  answer: { readonly leaderEpoch: number; readonly endOffset: number },
): number {
  if (answer.endOffset < 0 || answer.leaderEpoch < 0) return Math.min(highWatermark, logEnd);
  let target = Math.min(answer.endOffset, logEnd);
  if (answer.leaderEpoch < epochs.latestEpoch) target = Math.min(target, epochs.endOffsetFor(answer.leaderEpoch, logEnd).endOffset);
  return Math.max(target, logStart);
}

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
// partition's leader changes, the fetcher of the new leader takes it over.
//
// Truncation on fetch (Kafka >= 2.7, KIP-595's scheme for the replica fetcher): every fetch names
// the epoch of this log's last batch (lastFetchedEpoch, Fetch v12+); a leader whose log does not
// continue that epoch where this one ends answers divergingEpoch {epoch, endOffset} instead of
// records, and the follower truncates to where the two logs stop agreeing (divergenceOffset)
// and fetches again, until the leader sends records. No OffsetForLeaderEpoch round trip, not
// even after a leader change: only a log with no epoch history (nothing to name) truncates to
// its high watermark first, as Kafka's fetcher does. This needs a leader that answers the
// diverging epoch (every Sluice since this change; Kafka gates it on IBP 2.7).

import { BrokerConnection, type ConnectionOptions } from '@sluice/client';
import { ErrorCode, type FetchRequestTopics } from '@sluice/protocol';
import type { Logger } from '../logger.ts';
import type { LeaderEpochCache } from '../leader-epoch-cache.ts';
import type { Partition } from '../partition.ts';
import type { ReplicationQuota } from '../quotas/replication-quota.ts';
import type { EndpointRecord } from './keys.ts';

const FETCH_API_KEY = 1;
/** v12: topics by name, flexible, lastFetchedEpoch and the diverging epoch. */
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
   * Partitions newly followed here, or followed in a new leader epoch: one with no epoch history
   * truncates to its high watermark before its first fetch (it cannot name a last fetched
   * epoch, so the leader could not tell it where it diverges).
   */
  private readonly newlyFollowed = new Set<Partition>();
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
    for (const [p, f] of this.partitions) if (before.get(p)?.leaderEpoch !== f.leaderEpoch) this.newlyFollowed.add(p);
    for (const p of [...this.newlyFollowed]) if (!this.partitions.has(p)) this.newlyFollowed.delete(p);
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
        for (const f of followed) if (this.newlyFollowed.delete(f.partition) && f.partition.epochs.latestEpoch < 0) f.partition.truncateToHighWatermark();
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
        // The leader checks that this log still continues its own (Partition.checkLastFetchedEpoch);
        // a log restarting at the leader's log start has nothing to continue (Kafka clears the
        // epochs at truncateFullyAndStartAt).
        lastFetchedEpoch: this.resumeAt.has(f.partition) ? -1 : f.partition.epochs.latestEpoch,
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
        if (p.divergingEpoch !== undefined && p.divergingEpoch.endOffset >= 0) {
          // This log has what the leader's never had: truncate, and let the next fetch (naming
          // the epoch this log now ends with) confirm or narrow it. The answer's high watermark
          // is not followed yet: it describes a log this one is not a prefix of.
          this.truncateAtDivergence(f.partition, p.divergingEpoch.epoch, p.divergingEpoch.endOffset);
          progressed = true;
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

  /** Truncates where the leader's diverging-epoch answer says this log stops agreeing with it. */
  private truncateAtDivergence(partition: Partition, leaderEpoch: number, endOffset: number): void {
    const before = partition.logEndOffset;
    partition.truncateTo(divergenceOffset(partition.epochs, before, partition.highWatermark, partition.logStartOffset, { leaderEpoch, endOffset }));
    if (partition.logEndOffset < before)
      this.logger.info(
        { topic: partition.topic.name, partition: partition.index, from: before, to: partition.logEndOffset, leaderEpoch },
        "truncated to where the leader's log diverges",
      );
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
 * Where a follower's log stops agreeing with its leader's, from the leader's answer about the
 * follower's latest epoch (its diverging epoch in Fetch v12+, or an OffsetForLeaderEpoch answer,
 * KIP-279): the end the leader gives, never past the
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

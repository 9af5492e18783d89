// One partition of a topic on this broker: its native log and the offsets a leader keeps about it
// (Kafka's Partition + the leader side of UnifiedLog):
//   log end offset      where the next append goes (the native log's)
//   high watermark      up to where consumers may read: advanced as appends become committed
//   last stable offset  up to where read_committed consumers may read
//   leader epoch        the epoch appends are stamped with
// Single node: an append is committed as soon as it is in the log (this broker is the whole ISR),
// so append() advances the high watermark to the log end at once. Cluster mode will advance the
// high watermark from the followers' fetch positions (the replica state kept here) instead. The
// last stable offset is min(high watermark, first unstable offset): the native producer state
// knows where the earliest ongoing transaction began, and a COMMIT/ABORT marker
// (appendTxnMarker) moves it on.
//
// Group commit (`sluice.flush.on.ack.enable`) is here too: flushDurable shares fsyncs between
// concurrent waiters; flushForAck / flushEachForAck wait on several partitions at once.
//
// Concurrency: event loop only; a Partition is the single appender of its native log (the native
// log's contract).

import type { AppendResult, PartitionLog } from '@sluice/native';
import { LeaderEpochCache } from './leader-epoch-cache.ts';
import type { Topic } from './topics.ts';

/** Record batch v2 header: baseOffset(8) batchLength(4) partitionLeaderEpoch(4) magic(1) crc(4) attributes(2) lastOffsetDelta(4) baseTimestamp(8) maxTimestamp(8) ... */
const LOG_OVERHEAD = 12;
const BATCH_HEADER_BYTES = 61;

/** Kafka's VerificationGuard: compared by identity; `holders` counts the verifications using it. */
export interface VerificationGuard {
  holders: number;
}
/** What a Fetch's last fetched epoch says about the fetcher's log (checkLastFetchedEpoch). */
export type LastFetchedEpochCheck =
  | { readonly kind: 'consistent' }
  | { readonly kind: 'out-of-range' }
  | { readonly kind: 'diverging'; readonly epoch: number; readonly endOffset: number };

export class Partition {
  readonly topic: Topic;
  readonly index: number;
  readonly dir: string;
  /** The log dir holding `dir`. */
  readonly logDir: string;
  readonly log: PartitionLog;
  /**
   * The leader epoch appends are stamped with. Single node: 0 for ever (no leader election);
   * cluster mode sets it from the partition state in etcd (`setLeaderEpoch`).
   */
  private epoch = 0;
  private hw: number;
  private flushing: Promise<void> | null = null;
  /** When the last flush started (Date.now()), for flush.ms. */
  lastFlushAt = Date.now();
  private flushQueued: Promise<void> | null = null;
  private failure: Error | null = null;
  /**
   * Cluster mode: an append does not commit itself. The leader moves the high watermark from
   * the ISR's log ends (cluster/replication.ts), a follower from the leader's high watermark.
   */
  private replicated = false;
  /** Cluster mode: where each leader epoch starts in this log (leader-epoch-checkpoint). */
  readonly epochs: LeaderEpochCache;
  /**
   * KIP-890 verification guards (Kafka's VerificationGuard in its producer state), by producer id:
   * one per producer whose transactional batch is being verified with a coordinator on another
   * broker. A marker for the producer, or a new leadership, ends it; the append after the
   * verification's await only goes ahead if its guard is still the current one.
   */
  private readonly verificationGuards = new Map<number, VerificationGuard>();
  /** The high watermark the previous run checkpointed (replication-offset-checkpoint), if any. */
  private readonly checkpointedHw: number | undefined;

  constructor(topic: Topic, index: number, dir: string, logDir: string, log: PartitionLog, checkpointedHighWatermark?: number) {
    this.topic = topic;
    this.index = index;
    this.dir = dir;
    this.logDir = logDir;
    this.log = log;
    this.epochs = new LeaderEpochCache(dir);
    this.checkpointedHw = checkpointedHighWatermark;
    // What a single node opens with is all committed: it was acknowledged by this broker alone.
    this.hw = log.logEndOffset;
  }

  get leaderEpoch(): number {
    return this.epoch;
  }

  /**
   * Cluster mode: the controller elected a leader in `epoch` (never moves backwards). Waiters are
   * told: an acks=-1 produce appended in an earlier epoch fails at once (handlers/produce.ts).
   */
  setLeaderEpoch(epoch: number): void {
    if (epoch <= this.epoch) return;
    this.epoch = epoch;
    this.notifyChanged();
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /**
   * Cluster mode: from now on appends wait for the replicas to be committed. The high watermark
   * a log opened with (its log end) is not known to be committed across the ISR, so it restarts
   * from what the previous run checkpointed (replication-offset-checkpoint, as Kafka), clamped to
   * [log start, log end], else from the log start: a leader's moves up as soon as its ISR has
   * fetched, a follower's with the leader's — never exposing what the ISR may not have.
   */
  setReplicated(): void {
    if (this.replicated) return;
    this.replicated = true;
    const start = this.log.logStartOffset;
    this.hw = Math.max(start, Math.min(this.checkpointedHw ?? start, this.log.logEndOffset));
  }

  get isReplicated(): boolean {
    return this.replicated;
  }

  /**
   * Where leader epoch `epoch` ends in this log, and the epoch that answer is about (Kafka's
   * UnifiedLog.endOffsetForEpoch): cluster mode asks the epoch cache; a log that is not
   * replicated has had one epoch, the current one, for its whole history (a later or negative
   * epoch is unknown: -1, -1). What OffsetForLeaderEpoch and the Fetch diverging-epoch check use.
   */
  endOffsetForEpoch(epoch: number): { epoch: number; endOffset: number } {
    if (this.replicated) return this.epochs.endOffsetFor(epoch, this.log.logEndOffset);
    if (epoch < 0 || epoch > this.epoch) return { epoch: -1, endOffset: -1 };
    return { epoch: this.epoch, endOffset: this.log.logEndOffset };
  }

  /**
   * Fetch v12+ log-truncation detection (KIP-320 for consumers, KIP-595's truncation on fetch
   * for followers; Kafka's Partition.validateFetchOffsetAndMaybeGetDivergingEpoch): the fetcher
   * says which epoch its last fetched batch had, the caller has already checked its current
   * leader epoch. Where that epoch ends here decides:
   *   - unknown here (-1): the fetch is OFFSET_OUT_OF_RANGE;
   *   - the fetch offset is below the log start: OFFSET_OUT_OF_RANGE, diverging or not;
   *   - this log knows only an older epoch in its place, or the epoch ends here before the fetch
   *     offset: the fetcher's log has what this one never had; the answer is that epoch and
   *     its end (the fetcher truncates there) instead of records;
   *   - otherwise the fetch reads as usual.
   */
  checkLastFetchedEpoch(lastFetchedEpoch: number, fetchOffset: number): LastFetchedEpochCheck {
    const end = this.endOffsetForEpoch(lastFetchedEpoch);
    if (end.epoch < 0 || end.endOffset < 0) return { kind: 'out-of-range' };
    if (fetchOffset < this.log.logStartOffset) return { kind: 'out-of-range' };
    if (end.epoch < lastFetchedEpoch || end.endOffset < fetchOffset) return { kind: 'diverging', epoch: end.epoch, endOffset: end.endOffset };
    return { kind: 'consistent' };
  }

  /** Cluster mode: this broker leads the partition in `epoch`, which starts at the log end. */
  becomeLeader(epoch: number): void {
    this.verificationGuards.clear();
    this.setLeaderEpoch(epoch);
    this.epochs.assign(epoch, this.log.logEndOffset);
  }

  /** Offset up to which consumers may read (exclusive). Never past the log end. */
  get highWatermark(): number {
    return this.hw;
  }

  /**
   * Offset up to which read_committed consumers may read: the high watermark, held back at the
   * first offset of the earliest transaction still open in this partition (Kafka's LSO).
   */
  get lastStableOffset(): number {
    const firstUnstable = this.log.firstUnstableOffset;
    return firstUnstable >= 0 && firstUnstable < this.hw ? firstUnstable : this.hw;
  }

  /**
   * Appends a transaction's COMMIT or ABORT marker as the leader (the coordinator's marker writer
   * and WriteTxnMarkers, never a client's produce): the native log builds the control batch, ends
   * the producer's transaction here (on ABORT indexing it for read_committed fetches), and the
   * last stable offset moves past it. Committed at once on a single node, like append(); in
   * cluster mode once the ISR has it, also like append() (but followers cannot mirror control
   * batches yet: cluster/README.md).
   */
  appendTxnMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number, commit: boolean, nowMs: number): AppendResult {
    // The transaction ended here: a verification still in flight for it must not append.
    this.verificationGuards.delete(producerId);
    const appended = this.log.appendTxnMarker(producerId, producerEpoch, coordinatorEpoch, commit, nowMs, this.leaderEpoch);
    if (this.replicated) this.notifyChanged();
    else this.advanceHighWatermark(this.log.logEndOffset);
    if (appended.rolled) {
      this.flushDurable().catch((err: unknown) => this.topic.onFlushError?.(this, err));
    }
    return appended;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  /** Whether this log has an open transaction of the producer in this epoch (Kafka's hasOngoingTransaction). */
  hasOngoingTransaction(producerId: number, producerEpoch: number): boolean {
    return this.log.ongoingTransactions().some((t) => t.producerId === producerId && t.producerEpoch === producerEpoch);
  }

  /**
   * A verification of the producer's transactional batch starts: its guard, the current one if
   * another verification holds it already (concurrent produces share it), else a new one.
   * Every call is paired with releaseVerificationGuard.
   */
  holdVerificationGuard(producerId: number): VerificationGuard {
    let guard = this.verificationGuards.get(producerId);
    if (guard === undefined) this.verificationGuards.set(producerId, (guard = { holders: 0 }));
    guard.holders++;
    return guard;
  }

  /** Whether `guard` is still the producer's current one: no marker and no new leadership since it was made. */
  verificationHolds(producerId: number, guard: VerificationGuard): boolean {
    return this.verificationGuards.get(producerId) === guard;
  }

  /** A verification is over (appended or refused); the last holder's release forgets the guard. */
  releaseVerificationGuard(producerId: number, guard: VerificationGuard): void {
    guard.holders--;
    if (guard.holders <= 0 && this.verificationGuards.get(producerId) === guard) this.verificationGuards.delete(producerId);
  }

  /**
   * Appends one record batch as the leader: the native log validates, assigns offsets and writes
   * it (throwing on refusal). A real append is committed at once on a single node, so the high
   * watermark moves to the new log end and waiters are told; a retried duplicate (idempotent
   * producer) wrote nothing and moves nothing. A roll fsyncs the sealed segment in the
   * background, as Kafka does at roll — that is what advances the recovery point, so a restart
   * after a crash rescans only the active segment.
   */
  append(records: Uint8Array, nowMs: number): AppendResult {
    const appended = this.log.append(records, nowMs, this.leaderEpoch);
    if (appended.duplicate) return appended;
    if (this.replicated) this.notifyChanged();
    else this.advanceHighWatermark(this.log.logEndOffset);
    if (appended.rolled) {
      this.flushDurable().catch((err: unknown) => this.topic.onFlushError?.(this, err));
    }
    return appended;
  }

  /**
   * Follower: appends record batches fetched from the leader as they are (the native
   * `appendAsFollower`: the leader's offsets, epochs, timestamps and CRCs kept byte for byte,
   * offset gaps allowed — a compacted leader log is mirrored exactly). Producer state and the
   * transaction index (COMMIT/ABORT markers) are rebuilt by the same append, so a follower that
   * becomes leader knows its producers and open transactions. A trailing partial batch (the
   * fetch's size limit cut it) is left for the next fetch. The first batch of each new leader
   * epoch is recorded in the epoch cache. Throws when the leader's batches do not follow this
   * log (a batch below its end: the fetcher truncates first). Returns the batches appended.
   */
  appendAsFollower(records: Uint8Array, nowMs: number): number {
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    const starts: { baseOffset: number; epoch: number }[] = [];
    let pos = 0;
    while (pos + BATCH_HEADER_BYTES <= records.byteLength) {
      const size = LOG_OVERHEAD + view.getInt32(pos + 8);
      if (pos + size > records.byteLength) break;
      starts.push({ baseOffset: Number(view.getBigInt64(pos)), epoch: view.getInt32(pos + 12) });
      pos += size;
    }
    if (starts.length === 0) return 0;
    const end = this.log.logEndOffset;
    if (starts[0]!.baseOffset < end)
      throw new Error(`${this.topic.name}-${this.index}: the leader's batch starts at ${starts[0]!.baseOffset}, below this log's end ${end}`);
    const result = this.log.appendAsFollower(records.subarray(0, pos), nowMs);
    if (result.rolled) this.flushDurable().catch((err: unknown) => this.topic.onFlushError?.(this, err));
    for (const { baseOffset, epoch } of starts) {
      if (epoch > this.epochs.latestEpoch) this.epochs.assign(epoch, baseOffset);
    }
    this.notifyChanged();
    return starts.length;
  }

  /** Follower: moves the high watermark to the leader's, as far as this log reaches. */
  followHighWatermark(leaderHighWatermark: number): void {
    this.advanceHighWatermark(Math.min(leaderHighWatermark, this.log.logEndOffset));
  }

  /**
   * Drops what may not be committed (past the high watermark): a follower's fallback when the
   * leader cannot say where their logs diverge.
   */
  truncateToHighWatermark(): void {
    this.truncateTo(this.hw);
  }

  /**
   * Follower: drops every batch at or past `offset` (where this log diverges from the leader's,
   * KIP-101/279); the high watermark and the epoch cache follow. With nothing to drop, an epoch
   * starting at the log end is still dropped, as Kafka's truncateTo does: a leader that took an
   * epoch and was deposed before appending in it would otherwise keep naming that epoch, which
   * its new leader never had, as its last fetched one (and be told to diverge for ever).
   */
  truncateTo(offset: number): void {
    if (this.log.logEndOffset <= offset) {
      this.epochs.truncateFromEnd(this.log.logEndOffset);
      return;
    }
    this.log.truncateTo(offset);
    const end = this.log.logEndOffset;
    this.epochs.truncateFromEnd(end);
    this.hw = Math.min(this.hw, end);
    this.notifyChanged();
  }

  /**
   * Moves the high watermark forward to `offset` (never backwards, never past the log end), which
   * may move the last stable offset with it; waiters are told even when it did not move (the log
   * end or start may have).
   */
  advanceHighWatermark(offset: number): void {
    const end = this.log.logEndOffset;
    if (offset > end) throw new Error(`BUG: high watermark ${offset} past the log end ${end} of ${this.topic.name}-${this.index}`);
    if (offset > this.hw) this.hw = offset;
    this.notifyChanged();
  }

  /**
   * Offline: the partition's storage failed in a way that leaves what is on disk unknown — an
   * fsync failed (the kernel may have dropped the dirty pages, and a later fsync would not say
   * so) or a write failed with EIO. It answers KAFKA_STORAGE_ERROR to every request until the
   * broker restarts and recovers it, as Kafka takes a failed log dir offline. ENOSPC on append
   * does not do this: the log writes nothing then and goes on once there is space.
   */
  get offline(): boolean {
    return this.failure !== null;
  }

  /** Why the partition went offline, or null. */
  get offlineReason(): Error | null {
    return this.failure;
  }

  markOffline(err: unknown): void {
    if (this.failure !== null) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.topic.onOffline?.(this, this.failure);
  }

  /**
   * Resolves when everything appended before the call is on disk. A flush already running may
   * have started before our append, so at most one more is queued behind it; every caller that
   * arrives meanwhile shares that one (group commit). A failed flush takes the partition offline.
   */
  flushDurable(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.flushing === null) {
      this.lastFlushAt = Date.now();
      const flushing = this.log
        .flush()
        .catch((err: unknown) => {
          this.markOffline(err);
          throw err;
        })
        .finally(() => {
          this.flushing = null;
        });
      this.flushing = flushing;
      return flushing;
    }
    if (this.flushQueued === null) {
      this.flushQueued = this.flushing
        .catch(() => undefined)
        .then(() => {
          this.flushQueued = null;
          return this.flushDurable();
        });
    }
    return this.flushQueued;
  }

  /**
   * Called after the log end, the high watermark or the log start moved (append, retention,
   * delete records, topic deletion): the registry tells whoever waits on partitions (parked
   * fetches in the delayed operations).
   */
  notifyChanged(): void {
    this.topic.onPartitionChange?.(this);
  }
}

/**
 * Group commit for `sluice.flush.on.ack.enable`: resolves once every given partition's data
 * appended so far is fsync'd; rejects if any fsync failed. Concurrent callers share fsyncs
 * (Partition.flushDurable).
 */
export async function flushForAck(partitions: readonly Partition[]): Promise<void> {
  await Promise.all(partitions.map((p) => p.flushDurable()));
}

/**
 * flushForAck that waits for every partition and resolves with those whose fsync failed (they
 * are offline then), so a Produce answer can fail just those partitions.
 */
export async function flushEachForAck(partitions: readonly Partition[]): Promise<Set<Partition>> {
  const outcomes = await Promise.allSettled(partitions.map((p) => p.flushDurable()));
  const failed = new Set<Partition>();
  outcomes.forEach((outcome, i) => {
    if (outcome.status === 'rejected') failed.add(partitions[i]);
  });
  return failed;
}

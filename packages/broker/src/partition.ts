// One partition of a topic on this broker: its native log and the offsets a leader keeps about it
// (Kafka's Partition + the leader side of UnifiedLog):
//   log end offset      where the next append goes (the native log's)
//   high watermark      up to where consumers may read: advanced as appends become committed
//   last stable offset  up to where read_committed consumers may read
//   leader epoch        the epoch appends are stamped with
// Single node, no transactions: an append is committed as soon as it is in the log (this broker
// is the whole ISR), so append() advances the high watermark to the log end at once, and the last
// stable offset follows the high watermark. Cluster mode will advance the high watermark from the
// followers' fetch positions (the replica state kept here) instead, and transactions will hold
// the last stable offset at the first open transaction.
//
// Group commit (`sluice.flush.on.ack.enable`) is here too: flushDurable shares fsyncs between
// concurrent waiters; flushForAck / flushEachForAck wait on several partitions at once.
//
// Concurrency: event loop only; a Partition is the single appender of its native log (the native
// log's contract).

import type { AppendResult, PartitionLog } from '@sluice/native';
import type { Topic } from './topics.ts';

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
  private lso: number;
  private flushing: Promise<void> | null = null;
  /** When the last flush started (Date.now()), for flush.ms. */
  lastFlushAt = Date.now();
  private flushQueued: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(topic: Topic, index: number, dir: string, logDir: string, log: PartitionLog) {
    this.topic = topic;
    this.index = index;
    this.dir = dir;
    this.logDir = logDir;
    this.log = log;
    // What a single node opens with is all committed: it was acknowledged by this broker alone.
    this.hw = log.logEndOffset;
    this.lso = this.hw;
  }

  get leaderEpoch(): number {
    return this.epoch;
  }

  /** Cluster mode: the controller elected a leader in `epoch` (never moves backwards). */
  setLeaderEpoch(epoch: number): void {
    if (epoch > this.epoch) this.epoch = epoch;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  /** Offset up to which consumers may read (exclusive). Never past the log end. */
  get highWatermark(): number {
    return this.hw;
  }

  /** Offset up to which read_committed consumers may read; the high watermark until transactions. */
  get lastStableOffset(): number {
    return this.lso;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
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
    this.advanceHighWatermark(this.log.logEndOffset);
    if (appended.rolled) {
      this.flushDurable().catch((err: unknown) => this.topic.onFlushError?.(this, err));
    }
    return appended;
  }

  /**
   * Moves the high watermark forward to `offset` (never backwards, never past the log end) and
   * the last stable offset with it; waiters are told even when it did not move (the log end or
   * start may have).
   */
  advanceHighWatermark(offset: number): void {
    const end = this.log.logEndOffset;
    if (offset > end) throw new Error(`BUG: high watermark ${offset} past the log end ${end} of ${this.topic.name}-${this.index}`);
    if (offset > this.hw) {
      this.hw = offset;
      this.lso = offset;
    }
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
      this.flushQueued = this.flushing.catch(() => undefined).then(() => {
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

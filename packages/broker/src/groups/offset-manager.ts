// The offset manager: committed offsets (OffsetCommit, OffsetFetch) and their expiry
// (`offsets.retention.minutes`), following Kafka's OffsetMetadataManager. It keeps the offsets of
// every group, whatever the group's protocol; what it needs to know about groups (may this commit
// be stored, may these offsets be seen or expire) it asks through OffsetGroups, which the
// GroupCoordinator (coordinator.ts) answers by routing to the manager of the group's type.
// Transactional offset commits (TxnOffsetCommit) are held in PendingTxnOffsets until their
// transaction's COMMIT marker lands in the group's partition (then applied) or its ABORT (then
// dropped); OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT for them meanwhile.
//
// Durability: every change is appended to the GroupLog (records.ts) and replayed by the
// coordinator's load() through replay(). The in-memory store changes only after the append
// returned; a commit is answered once the write is durable.
//
// Concurrency: event loop only. The expiry timer comes from an injected Clock.

import { ErrorCode } from '@sluice/protocol';
import { type Clock, KeyedTimers } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { GroupCoordinatorConfig } from './config.ts';
import {
  type AppendGroupRecords,
  type GroupLogAppend,
  type GroupLogRecord,
  groupLogErrorCode,
  groupWriteError,
  type TransactionalProducer,
} from './group-log.ts';
import { OffsetStore } from './offset-store.ts';
import { PendingTxnOffsets, type TxnResult } from './pending-offsets.ts';
import { encodeOffsetKey, encodeOffsetValue, type OffsetValue } from './records.ts';
import type { FetchedOffset, OffsetCommitInput, OffsetFetchResult, OffsetToCommit, TxnOffsetCommitInput } from './types.ts';

/** A group whose offsets may expire now, as its manager sees it. */
export interface OffsetExpirationCandidate {
  readonly groupId: string;
  /** The timestamp an offset's retention counts from. */
  readonly retentionBase: (offset: OffsetValue) => number;
  /** Whether the group is deleted once it has no offsets left (it is Empty). */
  readonly deletableWithoutOffsets: boolean;
}

/** What the offset manager asks about groups (Kafka: the Group interface, via the group managers). */
export interface OffsetGroups {
  /**
   * NONE when the commit may be stored, else the error for every offset in it. A generation -1
   * commit for an unknown group creates a "simple" group; a member's commit keeps its session alive.
   */
  validateOffsetCommit(input: OffsetCommitInput): number;
  /** The same for TxnOffsetCommit (KIP-447: member and generation checked only when given). */
  validateTxnOffsetCommit(input: TxnOffsetCommitInput): number;
  /** False when a fetch must see no offsets: the group is unknown or Dead. */
  offsetsVisible(groupId: string): boolean;
  offsetExpirationCandidates(): OffsetExpirationCandidate[];
  /** The records that delete a group whose offsets all expired. */
  groupTombstones(groupId: string): GroupLogRecord[];
  /** Forgets a group whose deletion was written. */
  forgetGroup(groupId: string): void;
}

export interface OffsetManagerOptions {
  readonly config: GroupCoordinatorConfig;
  readonly groups: OffsetGroups;
  /** Appends a group's records to its offsets-log partition. */
  readonly append: AppendGroupRecords;
  /** Appends a group's records to its partition as one transactional batch of `producer`. */
  readonly appendTransactional: (groupId: string, records: readonly GroupLogRecord[], producer: TransactionalProducer) => GroupLogAppend;
  readonly logger: Logger;
  readonly clock: Clock;
}

const NO_OFFSET = -1;
const NO_LEADER_EPOCH = -1;
const NO_EXPIRE_TIMESTAMP = -1;
const DEFAULT_RETENTION_TIME = -1;
const EXPIRE_OFFSETS_TIMER = 'expire-offsets';

const offsetKey = (groupId: string, topic: string, partition: number) => `${groupId}\u0000${topic}\u0000${partition}`;

/** Kafka's mapping of a failed offset commit write: too large means INVALID_COMMIT_OFFSET_SIZE. */
function offsetWriteError(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE;
    default:
      return groupWriteError(errorCode);
  }
}

export class OffsetManager {
  private readonly config: GroupCoordinatorConfig;
  private readonly groups: OffsetGroups;
  private readonly append: AppendGroupRecords;
  private readonly appendTransactional: OffsetManagerOptions['appendTransactional'];
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly offsets = new OffsetStore();
  /** TxnOffsetCommit offsets waiting for their transaction's marker. */
  private readonly pending = new PendingTxnOffsets();
  /** Log offset of the record behind each committed offset, when known (orders plain against transactional commits). */
  private readonly committedAt = new Map<string, number>();
  private readonly timers: KeyedTimers;
  private expiring = false;

  constructor(options: OffsetManagerOptions) {
    this.config = options.config;
    this.groups = options.groups;
    this.append = options.append;
    this.appendTransactional = options.appendTransactional;
    this.logger = options.logger;
    this.clock = options.clock;
    this.timers = new KeyedTimers(this.clock);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** Starts the periodic expiry (`offsets.retention.check.interval.ms`). */
  startExpiry(): void {
    this.expiring = true;
    this.scheduleExpiry();
  }

  stopExpiry(): void {
    this.expiring = false;
    this.timers.cancelAll();
  }

  private scheduleExpiry(): void {
    this.timers.schedule(EXPIRE_OFFSETS_TIMER, this.config.offsetsRetentionCheckIntervalMs, () => {
      try {
        this.expireOffsets();
      } finally {
        if (this.expiring) this.scheduleExpiry();
      }
    });
  }

  // ---- OffsetCommit / OffsetFetch ------------------------------------------------------------

  /** Commits offsets; answers one error code per input offset, in input order. */
  async commitOffsets(input: OffsetCommitInput): Promise<number[]> {
    const all = (errorCode: number) => input.offsets.map(() => errorCode);
    const invalid = this.groups.validateOffsetCommit(input);
    if (invalid !== ErrorCode.NONE) return all(invalid);
    const now = this.clock.now();
    const expireTimestamp = input.retentionTimeMs === DEFAULT_RETENTION_TIME ? NO_EXPIRE_TIMESTAMP : now + input.retentionTimeMs;
    const results: number[] = input.offsets.map((o) =>
      o.metadata !== null && o.metadata.length > this.config.offsetMetadataMaxBytes ? ErrorCode.OFFSET_METADATA_TOO_LARGE : ErrorCode.NONE,
    );
    const accepted: Array<{ commit: OffsetToCommit; value: OffsetValue; index: number }> = [];
    input.offsets.forEach((commit, index) => {
      if (results[index] !== ErrorCode.NONE) return;
      const value = { offset: commit.offset, leaderEpoch: commit.leaderEpoch, metadata: commit.metadata ?? '', commitTimestamp: now, expireTimestamp };
      accepted.push({ commit, value, index });
    });
    if (accepted.length === 0) return results;
    const records = accepted.map(({ commit, value }) => ({
      key: encodeOffsetKey(input.groupId, commit.topic, commit.partition),
      value: encodeOffsetValue(value),
    }));
    const failAccepted = (err: unknown) => {
      const errorCode = offsetWriteError(groupLogErrorCode(err));
      for (const a of accepted) results[a.index] = errorCode;
      return results;
    };
    let write: GroupLogAppend;
    try {
      write = this.append(input.groupId, records);
    } catch (err) {
      return failAccepted(err);
    }
    for (const { commit, value } of accepted) {
      this.offsets.put(input.groupId, commit.topic, commit.partition, value);
      this.committedAt.set(offsetKey(input.groupId, commit.topic, commit.partition), write.baseOffset);
    }
    try {
      await write.durable;
    } catch (err) {
      return failAccepted(err);
    }
    return results;
  }

  /**
   * Committed offsets of a group: the requested partitions (unknown ones answer offset -1 with no
   * error), or with `topics` null every committed partition.
   */
  fetchOffsets(groupId: string, topics: ReadonlyArray<{ name: string; partitionIndexes: readonly number[] }> | null, requireStable = false): OffsetFetchResult {
    const visible = this.groups.offsetsVisible(groupId);
    const fetchedIn =
      (topic: string) =>
      (partitionIndex: number, value: OffsetValue | undefined): FetchedOffset =>
        // requireStable (v7+): a commit still inside an open transaction makes the answer unstable.
        requireStable && this.pending.isPending(groupId, topic, partitionIndex)
          ? { partitionIndex, committedOffset: NO_OFFSET, committedLeaderEpoch: NO_LEADER_EPOCH, metadata: '', errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
          : value === undefined
            ? { partitionIndex, committedOffset: NO_OFFSET, committedLeaderEpoch: NO_LEADER_EPOCH, metadata: '', errorCode: ErrorCode.NONE }
            : { partitionIndex, committedOffset: value.offset, committedLeaderEpoch: value.leaderEpoch, metadata: value.metadata, errorCode: ErrorCode.NONE };
    if (topics === null) {
      if (!visible) return { errorCode: ErrorCode.NONE, topics: [] };
      return {
        errorCode: ErrorCode.NONE,
        topics: this.offsets.topics(groupId).map((name) => ({
          name,
          partitions: this.offsets.partitions(groupId, name).map(([partition, value]) => fetchedIn(name)(partition, value)),
        })),
      };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((p) => fetchedIn(t.name)(p, visible ? this.offsets.get(groupId, t.name, p) : undefined)),
      })),
    };
  }

  // ---- TxnOffsetCommit -----------------------------------------------------------------------

  /**
   * Commits offsets inside a transaction; answers one error code per input offset, in input
   * order. After the group checks, `verify` (the transaction coordinator: is the group's offsets
   * partition in this producer's transaction?) runs, then the records are appended as a
   * transactional batch and staged — all in one synchronous step, so no marker can land between
   * the check and the append. Nothing is visible to OffsetFetch until the COMMIT marker.
   */
  async commitTransactionalOffsets(input: TxnOffsetCommitInput, verify: () => number): Promise<number[]> {
    const all = (errorCode: number) => input.offsets.map(() => errorCode);
    const invalid = this.groups.validateTxnOffsetCommit(input);
    if (invalid !== ErrorCode.NONE) return all(invalid);
    const verified = verify();
    if (verified !== ErrorCode.NONE) return all(verified);
    const now = this.clock.now();
    const results: number[] = input.offsets.map((o) =>
      o.metadata !== null && o.metadata.length > this.config.offsetMetadataMaxBytes ? ErrorCode.OFFSET_METADATA_TOO_LARGE : ErrorCode.NONE,
    );
    const accepted = input.offsets.flatMap((commit, index) => {
      if (results[index] !== ErrorCode.NONE) return [];
      const value: OffsetValue = {
        offset: commit.offset,
        leaderEpoch: commit.leaderEpoch,
        metadata: commit.metadata ?? '',
        commitTimestamp: now,
        expireTimestamp: NO_EXPIRE_TIMESTAMP,
      };
      return [{ commit, value, index }];
    });
    if (accepted.length === 0) return results;
    const records = accepted.map(({ commit, value }) => ({
      key: encodeOffsetKey(input.groupId, commit.topic, commit.partition),
      value: encodeOffsetValue(value),
    }));
    const failAccepted = (err: unknown) => {
      const errorCode = offsetWriteError(groupLogErrorCode(err));
      for (const a of accepted) results[a.index] = errorCode;
      return results;
    };
    let write: GroupLogAppend;
    try {
      write = this.appendTransactional(input.groupId, records, { producerId: input.producerId, producerEpoch: input.producerEpoch });
    } catch (err) {
      return failAccepted(err);
    }
    for (const { commit, value } of accepted) this.stage(input.groupId, input.producerId, commit.topic, commit.partition, value, write.baseOffset);
    try {
      await write.durable;
    } catch (err) {
      return failAccepted(err);
    }
    return results;
  }

  private stage(groupId: string, producerId: number, topic: string, partition: number, value: OffsetValue, logOffset: number): void {
    this.pending.stage(groupId, producerId, {
      topic,
      partition,
      offset: value.offset,
      leaderEpoch: value.leaderEpoch,
      metadata: value.metadata,
      commitTimestamp: value.commitTimestamp,
      logOffset,
    });
  }

  /** Groups holding offsets of this producer's open transaction. */
  groupsWithPendingOffsets(producerId: number): string[] {
    return this.pending.groupsOf(producerId);
  }

  /**
   * The producer's transaction ended for this group (its marker is in the group's partition):
   * COMMIT applies its offsets — each only if its record is newer in the log than the committed
   * one, so the last write in log order wins — and ABORT drops them. Nothing more is written:
   * the marker is the record, and replay resolves the staged records the same way.
   */
  completeTransaction(groupId: string, producerId: number, result: TxnResult): void {
    const applied = this.pending.complete(groupId, producerId, result, (topic, partition) => this.committedAt.get(offsetKey(groupId, topic, partition)));
    for (const p of applied) {
      this.offsets.put(groupId, p.topic, p.partition, {
        offset: p.offset,
        leaderEpoch: p.leaderEpoch,
        metadata: p.metadata,
        commitTimestamp: p.commitTimestamp,
        expireTimestamp: NO_EXPIRE_TIMESTAMP,
      });
      this.committedAt.set(offsetKey(groupId, p.topic, p.partition), p.logOffset);
    }
  }

  /** Some transaction holds commits of this group (it must not be deleted or expired meanwhile). */
  hasPendingOffsets(groupId: string): boolean {
    return this.pending.hasPending(groupId);
  }

  // ---- group deletion ------------------------------------------------------------------------

  /** Tombstones for every committed offset of the group (DeleteGroups). */
  deleteAllOffsetsRecords(groupId: string): GroupLogRecord[] {
    return this.offsets.offsets(groupId).map((o) => ({ key: encodeOffsetKey(groupId, o.topic, o.partition), value: null }));
  }

  /**
   * OffsetDelete: tombstones for the given partitions' committed offsets (those without one need
   * none), written and forgotten at once; resolves when durable.
   */
  deleteOffsets(groupId: string, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const committed = partitions.filter(({ topic, partition }) => this.offsets.get(groupId, topic, partition) !== undefined);
    if (committed.length === 0) return Promise.resolve();
    const write = this.append(
      groupId,
      committed.map(({ topic, partition }) => ({ key: encodeOffsetKey(groupId, topic, partition), value: null })),
    );
    for (const { topic, partition } of committed) this.offsets.delete(groupId, topic, partition);
    return write.durable;
  }

  /** Forgets the group's offsets once their tombstones were written. */
  forgetGroup(groupId: string): void {
    this.offsets.deleteGroup(groupId);
    this.pending.dropGroup(groupId);
    const prefix = `${groupId}\u0000`;
    for (const key of this.committedAt.keys()) if (key.startsWith(prefix)) this.committedAt.delete(key);
  }

  // ---- offsets retention ---------------------------------------------------------------------

  /**
   * `offsets.retention.minutes`: an Empty group's offsets expire once the group has been Empty
   * that long; a simple group's offsets once that long has passed since each commit; an offset
   * committed with an explicit retention (OffsetCommit v2-4) at its own expiry. An Empty group
   * left without offsets is deleted. Groups with members keep their offsets. Returns the number
   * of offsets removed.
   */
  expireOffsets(): number {
    const now = this.clock.now();
    let expiredCount = 0;
    for (const { groupId, retentionBase, deletableWithoutOffsets } of this.groups.offsetExpirationCandidates()) {
      const stored = this.offsets.offsets(groupId);
      const expired = stored.filter(
        ({ topic, partition, value }) =>
          // An offset a transaction is about to replace stays until the transaction ends (Kafka).
          !this.pending.isPending(groupId, topic, partition) &&
          (value.expireTimestamp !== NO_EXPIRE_TIMESTAMP ? now >= value.expireTimestamp : now - retentionBase(value) >= this.config.offsetsRetentionMs),
      );
      // A group with offsets inside an open transaction stays (Kafka's hasPendingTransactionalOffsets).
      const deleteGroup = expired.length === stored.length && deletableWithoutOffsets && !this.pending.hasPending(groupId);
      if (expired.length === 0 && !deleteGroup) continue;
      const records: GroupLogRecord[] = expired.map((o) => ({ key: encodeOffsetKey(groupId, o.topic, o.partition), value: null }));
      if (deleteGroup) records.push(...this.groups.groupTombstones(groupId));
      try {
        this.append(groupId, records).durable.catch((err) => this.logger.warn({ group: groupId, err }, 'flushing expired offsets failed'));
      } catch (err) {
        this.logger.warn({ group: groupId, errorCode: groupLogErrorCode(err) }, 'could not write expired offsets; will retry');
        continue;
      }
      for (const o of expired) {
        this.offsets.delete(groupId, o.topic, o.partition);
        this.committedAt.delete(offsetKey(groupId, o.topic, o.partition));
      }
      expiredCount += expired.length;
      if (deleteGroup) this.groups.forgetGroup(groupId);
      this.logger.info({ group: groupId, expiredOffsets: expired.length, groupDeleted: deleteGroup }, 'expired committed offsets');
    }
    return expiredCount;
  }

  // ---- log records ---------------------------------------------------------------------------

  /** Replay of an offset commit record (a null value: the offset was deleted). */
  replay(groupId: string, topic: string, partition: number, value: OffsetValue | null, logOffset: number): void {
    const key = offsetKey(groupId, topic, partition);
    if (value === null) {
      this.offsets.delete(groupId, topic, partition);
      this.committedAt.delete(key);
    } else {
      this.offsets.put(groupId, topic, partition, value);
      this.committedAt.set(key, logOffset);
    }
  }

  /** Replay of an offset commit record written inside a transaction: staged until its marker. */
  replayTransactional(groupId: string, topic: string, partition: number, value: OffsetValue, producerId: number, logOffset: number): void {
    this.stage(groupId, producerId, topic, partition, value, logOffset);
  }
}

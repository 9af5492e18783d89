// The group coordinator: one entry point for every group request, routing each to the manager
// of the group's type, as Kafka's GroupCoordinatorShard routes to its GroupMetadataManager and
// OffsetMetadataManager. This broker is the coordinator of every group.
//
//   ClassicGroupManager (classic-group-manager.ts)  the classic rebalance protocol: JoinGroup,
//                                                   SyncGroup, Heartbeat, LeaveGroup
//   ClassicGroups (classic-groups.ts)               the classic groups: list, describe, replay
//   OffsetManager (offset-manager.ts)               committed offsets of every group: commit,
//                                                   fetch, expiry
//
// Group ids are one namespace across types. Today every group is classic; a KIP-848 consumer
// group manager and a share group manager sit beside the classic one, and the routing below
// (describe, list, delete, what the offset manager asks) picks the manager owning the group id.
//
// Durability: every change to committed offsets and every completed generation is appended to
// the GroupLog (records.ts); load() replays it, each record to the manager of its kind. The
// managers change in-memory state only after the append returned, and answers that depend on a
// write wait for it to be durable.
//
// Concurrency: event loop only. Timers come from an injected Clock (tests use ManualClock).

import { ErrorCode } from '@sluice/protocol';
import { type Clock, systemClock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { ClassicGroupManager } from './classic-group-manager.ts';
import { ClassicGroups } from './classic-groups.ts';
import type { GroupCoordinatorConfig } from './config.ts';
import type { ClassicGroup, GroupState } from './group.ts';
import {
  type GroupLog,
  type GroupLogAppend,
  type GroupLogRecord,
  groupLogErrorCode,
  groupWriteError,
  type ReplayedRecordInfo,
  type TransactionalProducer,
} from './group-log.ts';
import { type JoinResult, joinError, type SyncResult, syncError } from './member.ts';
import { type OffsetGroups, OffsetManager } from './offset-manager.ts';
import { groupPartition } from './partitioning.ts';
import type { TransactionalOffsetSink, TxnResult } from './pending-offsets.ts';
import { decodeKey, decodeOffsetValue } from './records.ts';
import type {
  DescribedGroup,
  HeartbeatInput,
  JoinGroupInput,
  LeaveResult,
  LeavingMember,
  ListedGroup,
  OffsetCommitInput,
  OffsetFetchResult,
  SyncGroupInput,
  TxnOffsetCommitInput,
} from './types.ts';

export interface GroupCoordinatorOptions {
  readonly config: GroupCoordinatorConfig;
  readonly groupLog: GroupLog;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export class GroupCoordinator implements TransactionalOffsetSink {
  private readonly groupLog: GroupLog;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly classicGroups = new ClassicGroups();
  private readonly classic: ClassicGroupManager;
  private readonly offsets: OffsetManager;
  private active = false;

  constructor(options: GroupCoordinatorOptions) {
    this.groupLog = options.groupLog;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    const append = (groupId: string, records: readonly GroupLogRecord[]) => this.append(groupId, records);
    this.classic = new ClassicGroupManager({ config: options.config, append, logger: this.logger, clock: this.clock, groups: this.classicGroups });
    const appendTransactional = (groupId: string, records: readonly GroupLogRecord[], producer: TransactionalProducer) =>
      this.groupLog.appendTransactional(this.partitionFor(groupId), records, this.clock.now(), producer);
    this.offsets = new OffsetManager({
      config: options.config,
      groups: this.offsetGroups(),
      append,
      appendTransactional,
      logger: this.logger,
      clock: this.clock,
    });
  }

  /** The offsets-log partition that holds a group. */
  partitionFor(groupId: string): number {
    return groupPartition(groupId, this.groupLog.partitionCount);
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * Replays the log into groups and committed offsets, then starts the members' session timers
   * and the periodic offsets expiration. Groups with members come back Stable at their stored
   * generation, so consumers that reconnect carry on; members that do not come back expire.
   */
  load(): void {
    if (this.active) throw new Error('BUG: group coordinator loaded twice');
    let records = 0;
    this.groupLog.replay({
      record: (_partition, record, info) => {
        this.replayRecord(record, info);
        records++;
      },
      // A marker resolves what its transaction staged in this partition, as it did live.
      marker: (partition, marker) => this.onTransactionCompleted(partition, marker.producerId, marker.result),
    });
    this.classic.startSessions();
    this.active = true;
    this.offsets.startExpiry();
    this.logger.info({ records, groups: this.classicGroups.size }, 'group coordinator loaded');
  }

  /** Stops every timer and answers parked JoinGroup/SyncGroup requests NOT_COORDINATOR. */
  close(): void {
    if (!this.active) return;
    this.active = false;
    this.offsets.stopExpiry();
    this.classic.close();
  }

  private replayRecord(record: GroupLogRecord, info: ReplayedRecordInfo): void {
    const key = decodeKey(record.key);
    if (key.kind === 'offset') {
      // Offsets without group metadata belong to a simple group.
      if (record.value !== null && !this.classicGroups.has(key.group)) this.classicGroups.create(key.group, this.clock.now());
      if (info.transaction !== null && record.value !== null) {
        // TxnOffsetCommit: pending until its transaction's marker (replayed later, or written at recovery).
        this.offsets.replayTransactional(key.group, key.topic, key.partition, decodeOffsetValue(record.value), info.transaction.producerId, info.batchOffset);
        return;
      }
      this.offsets.replay(key.group, key.topic, key.partition, record.value === null ? null : decodeOffsetValue(record.value), info.batchOffset);
      return;
    }
    this.classicGroups.replay(key.group, record.value);
  }

  private append(groupId: string, records: readonly GroupLogRecord[]): GroupLogAppend {
    return this.groupLog.append(this.partitionFor(groupId), records, this.clock.now());
  }

  // ---- the classic protocol ------------------------------------------------------------------

  joinGroup(input: JoinGroupInput): Promise<JoinResult> {
    if (!this.active) return Promise.resolve(joinError(input.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    return this.classic.joinGroup(input);
  }

  syncGroup(input: SyncGroupInput): Promise<SyncResult> {
    if (!this.active) return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    return this.classic.syncGroup(input);
  }

  heartbeat(input: HeartbeatInput): number {
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return this.classic.heartbeat(input);
  }

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveResult {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    return this.classic.leaveGroup(groupId, leaving);
  }

  // ---- offsets -------------------------------------------------------------------------------

  /** Commits offsets; answers one error code per input offset, in input order. */
  async commitOffsets(input: OffsetCommitInput): Promise<number[]> {
    if (!this.active) return input.offsets.map(() => ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return this.offsets.commitOffsets(input);
  }

  /**
   * TxnOffsetCommit: answers one error code per input offset, in input order. `verify` is the
   * transaction coordinator's check that the group's partition is in the producer's transaction
   * (KIP-890); it runs after the group checks and right before the append.
   */
  async commitTransactionalOffsets(input: TxnOffsetCommitInput, verify: () => number): Promise<number[]> {
    if (!this.active) return input.offsets.map(() => ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return this.offsets.commitTransactionalOffsets(input, verify);
  }

  /**
   * A COMMIT/ABORT marker of `producerId` was appended to offsets partition `offsetsPartition`
   * (the transaction coordinator's marker writer, WriteTxnMarkers, or replay): the producer's
   * pending offsets of every group in that partition are applied or dropped.
   */
  onTransactionCompleted(offsetsPartition: number, producerId: number, result: TxnResult): void {
    for (const groupId of this.offsets.groupsWithPendingOffsets(producerId)) {
      if (this.partitionFor(groupId) === offsetsPartition) this.offsets.completeTransaction(groupId, producerId, result);
    }
  }

  /**
   * Committed offsets of a group: the requested partitions (unknown ones answer offset -1 with no
   * error), or with `topics` null every committed partition. With `requireStable` (OffsetFetch
   * v7+) a partition with a commit inside an open transaction answers UNSTABLE_OFFSET_COMMIT.
   */
  fetchOffsets(groupId: string, topics: ReadonlyArray<{ name: string; partitionIndexes: readonly number[] }> | null, requireStable = false): OffsetFetchResult {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, topics: [] };
    return this.offsets.fetchOffsets(groupId, topics, requireStable);
  }

  /** Runs the `offsets.retention.minutes` expiry now (it also runs on its timer); offsets removed. */
  expireOffsets(): number {
    if (!this.active) return 0;
    return this.offsets.expireOffsets();
  }

  /** What the offset manager asks about a group, answered by the manager of the group's type. */
  private offsetGroups(): OffsetGroups {
    return {
      validateOffsetCommit: (input) => this.classic.validateOffsetCommit(input),
      validateTxnOffsetCommit: (input) => this.classic.validateTxnOffsetCommit(input),
      offsetsVisible: (groupId) => this.classicGroups.offsetsVisible(groupId),
      offsetExpirationCandidates: () => this.classicGroups.offsetExpirationCandidates(),
      groupTombstones: (groupId) => this.classicGroups.tombstones(groupId),
      forgetGroup: (groupId) => this.classic.forgetGroup(groupId),
    };
  }

  // ---- ListGroups / DescribeGroups / DeleteGroups --------------------------------------------

  /** Every group, optionally only those whose state is in `statesFilter` (case-insensitive). */
  listGroups(statesFilter: readonly string[] = []): ListedGroup[] {
    return this.classicGroups.list(statesFilter);
  }

  /** A group unknown here is described as Dead with no error, as Kafka does before v6. */
  describeGroup(groupId: string): DescribedGroup {
    if (!this.active) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    return this.classicGroups.describe(groupId);
  }

  /** Deletes Empty groups and all their committed offsets; answers per group, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    const results: Array<Promise<{ groupId: string; errorCode: number }>> = groupIds.map(async (groupId) => {
      if (!this.active) return { groupId, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE };
      const invalid = this.classicGroups.validateDelete(groupId);
      if (invalid !== ErrorCode.NONE) return { groupId, errorCode: invalid };
      try {
        await this.deleteGroup(groupId);
        this.logger.info({ group: groupId }, 'group deleted');
        return { groupId, errorCode: ErrorCode.NONE };
      } catch (err) {
        return { groupId, errorCode: groupWriteError(groupLogErrorCode(err)) };
      }
    });
    return Promise.all(results);
  }

  /** Writes tombstones for the group's offsets and metadata, then forgets the group. */
  private deleteGroup(groupId: string): Promise<void> {
    const records = [...this.offsets.deleteAllOffsetsRecords(groupId), ...this.classicGroups.tombstones(groupId)];
    const write = this.append(groupId, records);
    this.offsets.forgetGroup(groupId);
    this.classic.forgetGroup(groupId);
    return write.durable;
  }

  // ---- introspection (tests, metrics) --------------------------------------------------------

  /** The group's state, or undefined when the coordinator does not know the group. */
  groupState(groupId: string): GroupState | undefined {
    return this.classicGroups.get(groupId)?.state;
  }

  /** Read-only view of a group, for tests and DescribeGroups-like tooling. */
  group(groupId: string): ClassicGroup | undefined {
    return this.classicGroups.get(groupId);
  }

  /** Groups per state. */
  stateCounts(): Record<GroupState, number> {
    return this.classicGroups.stateCounts();
  }
}

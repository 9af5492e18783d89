// The group coordinator: one entry point for every group request, routing each to the manager
// of the group's type, as Kafka's GroupCoordinatorShard routes to its GroupMetadataManager and
// OffsetMetadataManager. This broker is the coordinator of every group.
//
//   ClassicGroupManager (classic-group-manager.ts)  the classic rebalance protocol: JoinGroup,
//                                                   SyncGroup, Heartbeat, LeaveGroup
//   ClassicGroups (classic-groups.ts)               the classic groups: list, describe, replay
//   OffsetManager (offset-manager.ts)               committed offsets of every group: commit,
//                                                   fetch, expiry
//   ConsumerGroupManager (consumer-group-manager.ts) KIP-848 consumer groups: ConsumerGroupHeartbeat
//   ConsumerGroups (consumer-groups.ts)             the consumer groups: list, ConsumerGroupDescribe,
//                                                   offset checks, replay
//
// Group ids are one namespace across types: a group id is either a classic group or a consumer
// group, and the routing below (describe, list, delete, what the offset manager asks) picks the
// manager owning the group id (a share group manager would sit beside them).
//
// Classic and consumer groups side by side (Kafka's group.consumer.migration.policy): an EMPTY
// group changes type on the first request of the other protocol (a consumer heartbeat deletes an
// empty classic group and creates the consumer group; a classic JoinGroup deletes an empty
// consumer group), its committed offsets kept. A group with members keeps its type: a consumer
// heartbeat to a classic group with members gets GROUP_ID_NOT_FOUND ("Group X is not a consumer
// group."), a classic JoinGroup to a consumer group with members INCONSISTENT_GROUP_PROTOCOL, and
// classic Heartbeat/SyncGroup/LeaveGroup to a consumer group UNKNOWN_MEMBER_ID: Kafka's answers
// when its online migration does not apply. Online migration (classic members inside a consumer
// group) is not implemented; see the package README.
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
import type { ConsumerGroup, ConsumerGroupState } from './consumer-group.ts';
import {
  type ConsumerGroupStats,
  ConsumerGroupManager,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  type TopicImages,
} from './consumer-group-manager.ts';
import { ConsumerGroups, type DescribedConsumerGroup } from './consumer-groups.ts';
import { decodeConsumerKey, isConsumerKeyType } from './consumer-records.ts';
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
  /** The broker's topics, for KIP-848 consumer groups' assignments (none when not given). */
  readonly topics?: TopicImages;
  /**
   * Cluster mode: this broker coordinates only the groups of the offsets partitions it leads,
   * each loaded (loadPartition) when it becomes their leader and unloaded when it resigns, as
   * Kafka's GroupCoordinator.onElection/onResignation. Off: every partition, loaded by load().
   */
  readonly partitioned?: boolean;
}

const NO_TOPICS: TopicImages = { byName: () => undefined, all: () => [] };

export class GroupCoordinator implements TransactionalOffsetSink {
  private readonly groupLog: GroupLog;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly classicGroups = new ClassicGroups();
  private readonly classic: ClassicGroupManager;
  private readonly offsets: OffsetManager;
  private readonly consumerGroups: ConsumerGroups;
  private readonly consumer: ConsumerGroupManager;
  private active = false;
  /** The offsets partitions loaded here (partitioned mode); null: all of them. */
  private readonly owned: Set<number> | null;

  constructor(options: GroupCoordinatorOptions) {
    this.groupLog = options.groupLog;
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.owned = options.partitioned === true ? new Set() : null;
    const append = (groupId: string, records: readonly GroupLogRecord[]) => this.append(groupId, records);
    this.classic = new ClassicGroupManager({ config: options.config, append, logger: this.logger, clock: this.clock, groups: this.classicGroups });
    this.consumerGroups = new ConsumerGroups(options.config);
    this.consumer = new ConsumerGroupManager({
      config: options.config,
      append,
      logger: this.logger,
      clock: this.clock,
      topics: options.topics ?? NO_TOPICS,
      groups: this.consumerGroups,
    });
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
    this.active = true;
    this.offsets.startExpiry();
    // Partitioned: nothing is loaded until this broker leads an offsets partition.
    if (this.owned !== null) return;
    const records = this.replay(undefined);
    this.classic.startSessions();
    this.consumer.startSessions();
    this.logger.info({ records, groups: this.classicGroups.size, consumerGroups: this.consumerGroups.size }, 'group coordinator loaded');
  }

  /**
   * Partitioned mode: this broker now leads offsets partition `partition`; its groups and
   * committed offsets are replayed from the (replicated) log and their members' sessions start.
   */
  loadPartition(partition: number): void {
    if (this.owned === null || this.owned.has(partition) || !this.active) return;
    const records = this.replay(partition);
    this.owned.add(partition);
    const inPartition = (groupId: string) => this.partitionFor(groupId) === partition;
    this.classic.startSessions(inPartition);
    this.consumer.startSessions(inPartition);
    this.logger.info({ partition, records }, 'offsets partition loaded: coordinating its groups');
  }

  /**
   * Partitioned mode: this broker no longer leads offsets partition `partition`; its groups are
   * forgotten here (parked JoinGroup/SyncGroup answered NOT_COORDINATOR, timers cancelled), and
   * their requests answer NOT_COORDINATOR so the members find the new coordinator.
   */
  unloadPartition(partition: number): void {
    if (this.owned === null || !this.owned.delete(partition)) return;
    const groupIds = new Set<string>();
    for (const g of this.classicGroups.values()) if (this.partitionFor(g.groupId) === partition) groupIds.add(g.groupId);
    for (const g of this.consumerGroups.values()) if (this.partitionFor(g.groupId) === partition) groupIds.add(g.groupId);
    for (const groupId of groupIds) {
      if (this.consumerGroups.has(groupId)) this.consumer.forgetGroup(groupId);
      else this.classic.unloadGroup(groupId);
      this.offsets.forgetGroup(groupId);
    }
    this.logger.info({ partition, groups: groupIds.size }, 'offsets partition unloaded: no longer coordinating its groups');
  }

  /** Whether this broker coordinates the group now (loaded, and its partition is loaded here). */
  coordinates(groupId: string): boolean {
    return this.refusal(groupId) === ErrorCode.NONE;
  }

  /** NONE when this broker coordinates the group, else what its requests answer. */
  private refusal(groupId: string): number {
    if (!this.active) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (this.owned !== null && !this.owned.has(this.partitionFor(groupId))) return ErrorCode.NOT_COORDINATOR;
    return ErrorCode.NONE;
  }

  /** Replays one partition of the log (every partition when undefined); the record count. */
  private replay(partition: number | undefined): number {
    let records = 0;
    this.groupLog.replay(
      {
        record: (_partition, record, info) => {
          this.replayRecord(record, info);
          records++;
        },
        // A marker resolves what its transaction staged in this partition, as it did live.
        marker: (p, marker) => this.onTransactionCompleted(p, marker.producerId, marker.result),
      },
      partition,
    );
    return records;
  }

  /** Stops every timer and answers parked JoinGroup/SyncGroup requests NOT_COORDINATOR. */
  close(): void {
    if (!this.active) return;
    this.active = false;
    this.offsets.stopExpiry();
    this.classic.close();
    this.consumer.close();
  }

  private replayRecord(record: GroupLogRecord, info: ReplayedRecordInfo): void {
    // Consumer group records (Kafka's types 3-8, 16) go to their manager.
    if (record.key.length >= 2 && isConsumerKeyType((record.key[0]! << 8) | record.key[1]!)) {
      const consumerKey = decodeConsumerKey(record.key);
      // A group id is one type at a time: a consumer group replaces the classic one of its id.
      if (record.value !== null && this.classicGroups.has(consumerKey.group) && !this.consumerGroups.has(consumerKey.group))
        this.classicGroups.delete(consumerKey.group);
      this.consumerGroups.replay(consumerKey, record.value, this.clock.now());
      return;
    }
    const key = decodeKey(record.key);
    if (key.kind === 'offset') {
      // Offsets without group metadata belong to a simple group.
      if (record.value !== null && !this.classicGroups.has(key.group) && !this.consumerGroups.has(key.group))
        this.classicGroups.create(key.group, this.clock.now());
      if (info.transaction !== null && record.value !== null) {
        // TxnOffsetCommit: pending until its transaction's marker (replayed later, or written at recovery).
        this.offsets.replayTransactional(key.group, key.topic, key.partition, decodeOffsetValue(record.value), info.transaction.producerId, info.batchOffset);
        return;
      }
      this.offsets.replay(key.group, key.topic, key.partition, record.value === null ? null : decodeOffsetValue(record.value), info.batchOffset);
      return;
    }
    if (record.value !== null) this.consumer.forgetGroup(key.group);
    this.classicGroups.replay(key.group, record.value);
  }

  private append(groupId: string, records: readonly GroupLogRecord[]): GroupLogAppend {
    return this.groupLog.append(this.partitionFor(groupId), records, this.clock.now());
  }

  // ---- the classic protocol ------------------------------------------------------------------

  async joinGroup(input: JoinGroupInput): Promise<JoinResult> {
    const refused = this.refusal(input.groupId);
    if (refused !== ErrorCode.NONE) return joinError(input.memberId, refused);
    if (this.consumerGroups.has(input.groupId)) {
      if (!this.consumerGroups.isEmpty(input.groupId)) return joinError(input.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      // An empty consumer group becomes a classic one (its offsets stay).
      try {
        await this.convertEmptyGroup(input.groupId, 'consumer', 'classic');
      } catch (err) {
        return joinError(input.memberId, groupWriteError(groupLogErrorCode(err)));
      }
    }
    return this.classic.joinGroup(input);
  }

  syncGroup(input: SyncGroupInput): Promise<SyncResult> {
    const refused = this.refusal(input.groupId);
    if (refused !== ErrorCode.NONE) return Promise.resolve(syncError(refused));
    if (this.consumerGroups.has(input.groupId)) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    return this.classic.syncGroup(input);
  }

  heartbeat(input: HeartbeatInput): number {
    const refused = this.refusal(input.groupId);
    if (refused !== ErrorCode.NONE) return refused;
    if (this.consumerGroups.has(input.groupId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    return this.classic.heartbeat(input);
  }

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveResult {
    const refused = this.refusal(groupId);
    if (refused !== ErrorCode.NONE) return { errorCode: refused, members: [] };
    if (this.consumerGroups.has(groupId)) {
      return {
        errorCode: ErrorCode.NONE,
        members: leaving.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    return this.classic.leaveGroup(groupId, leaving);
  }

  // ---- the consumer protocol (KIP-848) -------------------------------------------------------

  async consumerGroupHeartbeat(input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatResult> {
    const refuse = (errorCode: number, errorMessage: string | null): ConsumerHeartbeatResult => ({
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    const refused = this.refusal(input.groupId);
    if (refused !== ErrorCode.NONE) return refuse(refused, null);
    const classic = this.classicGroups.get(input.groupId);
    if (classic !== undefined && input.groupId !== '') {
      if (input.memberEpoch !== 0 || !classic.is('Empty')) return refuse(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${input.groupId} is not a consumer group.`);
      try {
        await this.convertEmptyGroup(input.groupId, 'classic', 'consumer');
      } catch (err) {
        return refuse(groupWriteError(groupLogErrorCode(err)), null);
      }
    }
    return this.consumer.heartbeat(input);
  }

  consumerGroupDescribe(groupId: string): DescribedConsumerGroup {
    const refused = this.refusal(groupId);
    if (refused !== ErrorCode.NONE) {
      return {
        errorCode: refused,
        errorMessage: null,
        groupId,
        groupState: '',
        groupEpoch: -1,
        assignmentEpoch: -1,
        assignorName: '',
        members: [],
      };
    }
    return this.consumerGroups.describe(groupId, this.classicGroups.has(groupId));
  }

  /** Deletes an empty group of one type so the other type can take its id (offsets kept). */
  private async convertEmptyGroup(groupId: string, from: 'classic' | 'consumer', to: 'classic' | 'consumer'): Promise<void> {
    const records = from === 'classic' ? this.classicGroups.tombstones(groupId) : this.consumerGroups.tombstones(groupId);
    const write = this.append(groupId, records);
    if (from === 'classic') this.classic.forgetGroup(groupId);
    else this.consumer.forgetGroup(groupId);
    this.logger.info({ group: groupId, from, to }, 'empty group converted');
    await write.durable;
  }

  // ---- offsets -------------------------------------------------------------------------------

  /** Commits offsets; answers one error code per input offset, in input order. */
  async commitOffsets(input: OffsetCommitInput): Promise<number[]> {
    const refused = this.refusal(input.groupId);
    if (refused !== ErrorCode.NONE) return input.offsets.map(() => refused);
    return this.offsets.commitOffsets(input);
  }

  /**
   * OffsetFetch v9+ from a member of a consumer group: NONE when its member id and epoch may read
   * the group's offsets (UNKNOWN_MEMBER_ID, or STALE_MEMBER_EPOCH for any other epoch).
   */
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    const refused = this.refusal(groupId);
    if (refused !== ErrorCode.NONE) return refused;
    if (!this.consumerGroups.has(groupId)) return ErrorCode.NONE;
    return this.consumerGroups.validateOffsetFetch(groupId, memberId, memberEpoch);
  }

  /**
   * TxnOffsetCommit: answers one error code per input offset, in input order. `verify` is the
   * transaction coordinator's check that the group's partition is in the producer's transaction
   * (KIP-890); it runs after the group checks and right before the append.
   */
  async commitTransactionalOffsets(input: TxnOffsetCommitInput, verify: () => number): Promise<number[]> {
    const refused = this.refusal(input.groupId);
    if (refused !== ErrorCode.NONE) return input.offsets.map(() => refused);
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
    const refused = this.refusal(groupId);
    if (refused !== ErrorCode.NONE) return { errorCode: refused, topics: [] };
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
      validateOffsetCommit: (input) =>
        this.consumerGroups.has(input.groupId)
          ? this.consumerGroups.validateOffsetCommit(input.groupId, input.memberId, input.generationId, input.apiVersion)
          : this.classic.validateOffsetCommit(input),
      validateTxnOffsetCommit: (input) =>
        this.consumerGroups.has(input.groupId)
          ? this.consumerGroups.validateTxnOffsetCommit(input.groupId, input.memberId, input.groupInstanceId, input.generationId)
          : this.classic.validateTxnOffsetCommit(input),
      offsetsVisible: (groupId) => this.consumerGroups.has(groupId) || this.classicGroups.offsetsVisible(groupId),
      offsetExpirationCandidates: () => [...this.classicGroups.offsetExpirationCandidates(), ...this.consumerGroups.offsetExpirationCandidates()],
      groupTombstones: (groupId) => (this.consumerGroups.has(groupId) ? this.consumerGroups.tombstones(groupId) : this.classicGroups.tombstones(groupId)),
      forgetGroup: (groupId) => (this.consumerGroups.has(groupId) ? this.consumer.forgetGroup(groupId) : this.classic.forgetGroup(groupId)),
    };
  }

  // ---- ListGroups / DescribeGroups / DeleteGroups --------------------------------------------

  /**
   * Every group, optionally only those whose state is in `statesFilter` and whose type
   * (classic, consumer) is in `typesFilter` (both case-insensitive, empty = all). Consumer groups
   * carry groupType 'consumer' and protocol type "consumer", as Kafka lists them.
   */
  listGroups(statesFilter: readonly string[] = [], typesFilter: readonly string[] = []): ListedGroup[] {
    const types = new Set(typesFilter.map((t) => t.toLowerCase()));
    const out: ListedGroup[] = [];
    if (types.size === 0 || types.has('classic')) out.push(...this.classicGroups.list(statesFilter));
    if (types.size === 0 || types.has('consumer')) {
      for (const g of this.consumerGroups.list(statesFilter))
        out.push({ groupId: g.groupId, protocolType: 'consumer', groupState: g.groupState, groupType: 'consumer' });
    }
    return out;
  }

  /**
   * A group unknown here is described as Dead with no error, as Kafka does before v6; so is a
   * consumer group (DescribeGroups describes classic groups; ConsumerGroupDescribe the others).
   */
  describeGroup(groupId: string): DescribedGroup {
    const refused = this.refusal(groupId);
    if (refused !== ErrorCode.NONE) return { errorCode: refused, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    return this.classicGroups.describe(groupId);
  }

  /** Deletes Empty groups and all their committed offsets; answers per group, in order. */
  async deleteGroups(groupIds: readonly string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    const results: Array<Promise<{ groupId: string; errorCode: number }>> = groupIds.map(async (groupId) => {
      const refused = this.refusal(groupId);
      if (refused !== ErrorCode.NONE) return { groupId, errorCode: refused };
      const invalid = this.consumerGroups.has(groupId) ? this.consumerGroups.validateDelete(groupId) : this.classicGroups.validateDelete(groupId);
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

  /**
   * OffsetDelete (Kafka's OffsetMetadataManager.deleteOffsets): deletes a group's committed
   * offsets for the given partitions, except those of topics the group consumes
   * (GROUP_SUBSCRIBED_TO_TOPIC). A top-level error (unknown group, a non-consumer group with
   * members) deletes nothing. Answered once the tombstones are durable.
   */
  async deleteOffsets(
    groupId: string,
    topics: ReadonlyArray<{ name: string; partitions: readonly number[] }>,
  ): Promise<{ errorCode: number; topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }> }> {
    const refused = this.refusal(groupId);
    if (refused !== ErrorCode.NONE) return { errorCode: refused, topics: [] };
    const invalid = this.classicGroups.validateOffsetDelete(groupId);
    if (invalid !== ErrorCode.NONE) return { errorCode: invalid, topics: [] };
    const deletable = topics.filter((t) => !this.classicGroups.isSubscribedToTopic(groupId, t.name));
    try {
      await this.offsets.deleteOffsets(
        groupId,
        deletable.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition }))),
      );
    } catch (err) {
      return { errorCode: groupWriteError(groupLogErrorCode(err)), topics: [] };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => {
        const errorCode = deletable.includes(t) ? ErrorCode.NONE : ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC;
        return { name: t.name, partitions: t.partitions.map((partitionIndex) => ({ partitionIndex, errorCode })) };
      }),
    };
  }

  /** Writes tombstones for the group's offsets and metadata, then forgets the group. */
  private deleteGroup(groupId: string): Promise<void> {
    const isConsumer = this.consumerGroups.has(groupId);
    const records = [
      ...this.offsets.deleteAllOffsetsRecords(groupId),
      ...(isConsumer ? this.consumerGroups.tombstones(groupId) : this.classicGroups.tombstones(groupId)),
    ];
    const write = this.append(groupId, records);
    this.offsets.forgetGroup(groupId);
    if (isConsumer) this.consumer.forgetGroup(groupId);
    else this.classic.forgetGroup(groupId);
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

  /** KIP-848 consumer groups per state. */
  consumerStateCounts(): Record<ConsumerGroupState, number> {
    return this.consumerGroups.stateCounts();
  }

  /** KIP-848 counters: epoch bumps, fenced members, reconciliation time. */
  consumerStats(): Readonly<ConsumerGroupStats> {
    return this.consumer.stats;
  }

  /** Read-only view of a KIP-848 consumer group (tests, metrics, tooling). */
  consumerGroup(groupId: string): ConsumerGroup | undefined {
    return this.consumerGroups.get(groupId);
  }

  /** Members of a group of either type (0 when unknown). */
  groupSize(groupId: string): number {
    return this.consumerGroups.get(groupId)?.members.size ?? this.classicGroups.get(groupId)?.size ?? 0;
  }
}

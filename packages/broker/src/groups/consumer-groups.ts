// The KIP-848 consumer groups by id, and what can be read off them without running the
// protocol: listing, ConsumerGroupDescribe, the offset checks (Kafka's ConsumerGroup
// validateOffsetCommit/validateOffsetFetch), offset expiry, deletion and the replay of the
// consumer group records. The ConsumerGroupManager (consumer-group-manager.ts) changes the
// groups; the GroupCoordinator (coordinator.ts) reads them through this, as ClassicGroups
// (classic-groups.ts) is for classic groups.
//
// Concurrency: event loop only; owned by the GroupCoordinator, shared with the manager.

import { ErrorCode } from '@sluice/protocol';
import { assignorName } from './assignors.ts';
import type { GroupCoordinatorConfig } from './config.ts';
import {
  type Assignment,
  CONSUMER_GROUP_STATES,
  ConsumerGroup,
  type ConsumerGroupMember,
  type ConsumerGroupState,
  EMPTY_ASSIGNMENT,
  LEAVE_GROUP_MEMBER_EPOCH,
  newMember,
} from './consumer-group.ts';
import {
  CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
  CONSUMER_GROUP_MEMBER_METADATA,
  CONSUMER_GROUP_METADATA,
  CONSUMER_GROUP_PARTITION_METADATA,
  CONSUMER_GROUP_REGULAR_EXPRESSION,
  CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER,
  CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
  type ConsumerRecordKey,
  decodeCurrentMemberAssignmentValue,
  decodeEpochValue,
  decodeMemberMetadataValue,
  decodePartitionMetadataValue,
  decodeTargetAssignmentMemberValue,
  encodeConsumerKey,
} from './consumer-records.ts';
import type { GroupLogRecord } from './group-log.ts';
import type { OffsetExpirationCandidate } from './offset-manager.ts';

export interface DescribedConsumerGroup {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly groupId: string;
  readonly groupState: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly assignorName: string;
  readonly members: ReadonlyArray<{
    readonly memberId: string;
    readonly instanceId: string | null;
    readonly rackId: string | null;
    readonly memberEpoch: number;
    readonly clientId: string;
    readonly clientHost: string;
    readonly subscribedTopicNames: readonly string[];
    readonly subscribedTopicRegex: string | null;
    readonly assignment: Assignment;
    readonly targetAssignment: Assignment;
  }>;
}

/** The server-side assignors `group.consumer.assignors` names that exist here, in its order. */
export function configuredAssignors(config: GroupCoordinatorConfig): string[] {
  return config.consumerAssignors.map((a) => assignorName(a)).filter((a): a is string => a !== null);
}

/** Kafka's preferred server assignor: the one most members ask for, else the first configured. */
export function preferredAssignor(members: Iterable<ConsumerGroupMember>, assignors: readonly string[]): string {
  const votes = new Map<string, number>();
  for (const m of members) if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
  let best: string | null = null;
  for (const [name, count] of votes) if (best === null || count > votes.get(best)!) best = name;
  return assignorName(best ?? '') ?? assignors[0] ?? 'uniform';
}

export class ConsumerGroups {
  private readonly byId = new Map<string, ConsumerGroup>();
  private readonly assignors: readonly string[];

  constructor(config: GroupCoordinatorConfig) {
    this.assignors = configuredAssignors(config);
  }

  has(groupId: string): boolean {
    return this.byId.has(groupId);
  }

  get(groupId: string): ConsumerGroup | undefined {
    return this.byId.get(groupId);
  }

  set(groupId: string, group: ConsumerGroup): void {
    this.byId.set(groupId, group);
  }

  delete(groupId: string): void {
    this.byId.delete(groupId);
  }

  values(): IterableIterator<ConsumerGroup> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  isEmpty(groupId: string): boolean {
    return (this.byId.get(groupId)?.members.size ?? 0) === 0;
  }

  stateCounts(): Record<ConsumerGroupState, number> {
    const counts = Object.fromEntries(CONSUMER_GROUP_STATES.map((s) => [s, 0])) as Record<ConsumerGroupState, number>;
    for (const g of this.byId.values()) counts[g.state]++;
    return counts;
  }

  // ---- ConsumerGroupDescribe -----------------------------------------------------------------

  describe(groupId: string, isClassic: boolean): DescribedConsumerGroup {
    const notFound = (message: string): DescribedConsumerGroup => ({
      errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
      errorMessage: message,
      groupId,
      groupState: 'Dead',
      groupEpoch: -1,
      assignmentEpoch: -1,
      assignorName: '',
      members: [],
    });
    if (groupId === '') return { ...notFound("Group id can't be empty."), errorCode: ErrorCode.INVALID_GROUP_ID };
    const group = this.byId.get(groupId);
    if (group === undefined) return notFound(isClassic ? `Group ${groupId} is not a consumer group.` : `Group ${groupId} not found.`);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: preferredAssignor(group.members.values(), this.assignors),
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: m.assignedPartitions,
        targetAssignment: group.targetOf(m.memberId),
      })),
    };
  }

  list(statesFilter: readonly string[]): Array<{ groupId: string; groupState: string }> {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: Array<{ groupId: string; groupState: string }> = [];
    for (const g of this.byId.values()) {
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, groupState: g.state });
    }
    return out;
  }

  // ---- offsets -------------------------------------------------------------------------------

  /** Kafka's ConsumerGroup.validateOffsetCommit. */
  validateOffsetCommit(groupId: string, memberId: string, memberEpoch: number, apiVersion: number): number {
    const group = this.byId.get(groupId);
    if (group === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    // An admin client or a consumer outside group management may commit while nobody is a member.
    if (memberEpoch < 0 && group.members.size === 0) return ErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    return validateMemberEpoch(memberEpoch, member.memberEpoch);
  }

  /**
   * Kafka's ConsumerGroup.validateOffsetCommit for TxnOffsetCommit (isTransactional): the
   * generation is the member epoch. Epoch -1 on a group without members, and the pre-KIP-447
   * shape (epoch -1, no member id, no instance id), are accepted unchecked; otherwise the member
   * must exist (UNKNOWN_MEMBER_ID) and the epoch be its current one. There is no OffsetCommit v9
   * requirement for transactional commits, and an epoch that is not the member's is
   * ILLEGAL_GENERATION (Kafka's StaleMemberEpochException, mapped by its
   * validateTransactionalOffsetCommit), older or newer alike.
   */
  validateTxnOffsetCommit(groupId: string, memberId: string, groupInstanceId: string | null, memberEpoch: number): number {
    const group = this.byId.get(groupId);
    if (group === undefined) return memberEpoch < 0 ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    if (memberEpoch < 0 && group.members.size === 0) return ErrorCode.NONE;
    if (memberEpoch === -1 && memberId === '' && groupInstanceId === null) return ErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    return memberEpoch === member.memberEpoch ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
  }

  /** Kafka's ConsumerGroup.validateOffsetFetch (OffsetFetch v9+ with a member id and epoch). */
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    const group = this.byId.get(groupId);
    if (group === undefined || memberEpoch === -1) return ErrorCode.NONE;
    const member = group.members.get(memberId ?? '');
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    return validateMemberEpoch(memberEpoch, member.memberEpoch);
  }

  /** Empty consumer groups: their offsets expire counted from each commit (Kafka's condition). */
  offsetExpirationCandidates(): OffsetExpirationCandidate[] {
    const out: OffsetExpirationCandidate[] = [];
    for (const g of this.byId.values()) {
      if (g.members.size === 0) out.push({ groupId: g.groupId, retentionBase: (o) => o.commitTimestamp, deletableWithoutOffsets: true });
    }
    return out;
  }

  // ---- deletion ------------------------------------------------------------------------------

  validateDelete(groupId: string): number {
    const group = this.byId.get(groupId);
    if (group === undefined) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  /** Kafka's createGroupTombstoneRecords for a consumer group. */
  tombstones(groupId: string): GroupLogRecord[] {
    const group = this.byId.get(groupId);
    if (group === undefined) return [];
    const records: GroupLogRecord[] = [];
    for (const memberId of new Set([...group.members.keys(), ...group.targetAssignment.keys()])) records.push(...memberTombstones(groupId, memberId));
    for (const regex of group.regexMatches.keys()) records.push({ key: encodeConsumerKey(CONSUMER_GROUP_REGULAR_EXPRESSION, groupId, regex), value: null });
    records.push({ key: encodeConsumerKey(CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA, groupId), value: null });
    records.push({ key: encodeConsumerKey(CONSUMER_GROUP_PARTITION_METADATA, groupId), value: null });
    records.push({ key: encodeConsumerKey(CONSUMER_GROUP_METADATA, groupId), value: null });
    return records;
  }

  // ---- replay --------------------------------------------------------------------------------

  /** Replay of one consumer group record (Kafka's GroupMetadataManager.replay for each type). */
  replay(key: ConsumerRecordKey, value: Uint8Array | null, nowMs: number): void {
    let group = this.byId.get(key.group);
    if (group === undefined) {
      if (value === null) return;
      group = new ConsumerGroup(key.group, nowMs);
      this.byId.set(key.group, group);
    }
    const member = (memberId: string): ConsumerGroupMember =>
      group.members.get(memberId) ??
      newMember(memberId, {
        instanceId: null,
        rackId: null,
        clientId: '',
        clientHost: '',
        rebalanceTimeoutMs: -1,
        subscribedTopicNames: [],
        subscribedTopicRegex: null,
        serverAssignor: null,
      });
    switch (key.type) {
      case CONSUMER_GROUP_METADATA:
        if (value === null) this.byId.delete(key.group);
        else group.groupEpoch = decodeEpochValue(value, 'consumer group metadata value');
        return;
      case CONSUMER_GROUP_PARTITION_METADATA:
        group.subscriptionMetadata = new Map(value === null ? [] : decodePartitionMetadataValue(value).map((t) => [t.name, t]));
        return;
      case CONSUMER_GROUP_MEMBER_METADATA:
        if (value === null) {
          group.updateMember(key.sub, undefined);
          if (group.members.size === 0) group.emptySince = nowMs;
        } else group.updateMember(key.sub, { ...member(key.sub), ...decodeMemberMetadataValue(value) });
        return;
      case CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA:
        group.assignmentEpoch = value === null ? 0 : decodeEpochValue(value, 'consumer group target assignment metadata value');
        return;
      case CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER:
        if (value === null) group.targetAssignment.delete(key.sub);
        else group.targetAssignment.set(key.sub, decodeTargetAssignmentMemberValue(value));
        return;
      case CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT:
        if (value === null) {
          const m = group.members.get(key.sub);
          if (m !== undefined)
            group.updateMember(key.sub, {
              ...m,
              memberEpoch: LEAVE_GROUP_MEMBER_EPOCH,
              assignedPartitions: EMPTY_ASSIGNMENT,
              partitionsPendingRevocation: EMPTY_ASSIGNMENT,
            });
        } else group.updateMember(key.sub, { ...member(key.sub), ...decodeCurrentMemberAssignmentValue(value) });
        return;
      case CONSUMER_GROUP_REGULAR_EXPRESSION:
        if (value === null) group.regexMatches.delete(key.sub);
        // The matches are recomputed against the topics at the next heartbeat; the record only
        // says the regex is in use.
        else group.regexMatches.set(key.sub, []);
        return;
      default:
        throw new Error(`BUG: consumer group record type ${key.type} not handled`);
    }
  }
}

/** The three records of a member, deleted. */
export function memberTombstones(groupId: string, memberId: string): GroupLogRecord[] {
  return [
    { key: encodeConsumerKey(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, groupId, memberId), value: null },
    { key: encodeConsumerKey(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, groupId, memberId), value: null },
    { key: encodeConsumerKey(CONSUMER_GROUP_MEMBER_METADATA, groupId, memberId), value: null },
  ];
}

/**
 * OffsetCommit/OffsetFetch epoch check, as Kafka's ConsumerGroup.validateMemberEpoch: any epoch
 * but the member's current one is STALE_MEMBER_EPOCH (older or newer alike: the client retries
 * once its heartbeat has told it the current epoch; FENCED_MEMBER_EPOCH would make it rejoin).
 */
export function validateMemberEpoch(received: number, expected: number): number {
  return received === expected ? ErrorCode.NONE : ErrorCode.STALE_MEMBER_EPOCH;
}

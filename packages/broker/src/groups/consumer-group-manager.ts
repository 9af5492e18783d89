// The consumer-group manager: KIP-848's broker-side consumer group protocol
// (ConsumerGroupHeartbeat, ConsumerGroupDescribe), following Kafka's GroupMetadataManager for
// consumer groups: the same validations in the same order, the same error codes.
//
// How a group moves (Kafka's design):
//   Every heartbeat may change the member (join, subscription, rack, assignor). A change of
//   membership or subscription, or of the subscribed topics' metadata (created, deleted, more
//   partitions, regex matches), bumps the group epoch. When the group epoch is ahead of the target
//   assignment epoch, the assignor (assignors.ts; `uniform` unless the members ask otherwise)
//   computes a new target assignment for every member. Each member then reconciles towards its
//   target one heartbeat at a time (consumer-group.ts, `reconcile`): partitions it loses are
//   revoked first, and it reaches the new epoch once it reported them gone; partitions it gains are
//   handed over only once their previous owner released them. Nobody stops the world.
//   Timers: a member that does not heartbeat within `group.consumer.session.timeout.ms` is fenced
//   (removed, the group epoch bumped); a member that does not acknowledge a revocation within its
//   rebalance timeout is fenced too. A static member (instance id) that leaves with epoch -2 keeps
//   its partitions until its session expires, so a restarted instance picks them up without a
//   rebalance.
//
// Durability: every change is appended to the GroupLog as Kafka's consumer group records
// (consumer-records.ts) before the in-memory state changes; the answer waits for durability.
// ConsumerGroups.replay (consumer-groups.ts) rebuilds the groups at load; members come back with
// their epochs and assignments and startSessions() restarts their session timers.
//
// Concurrency: event loop only. Timers come from an injected Clock (tests use ManualClock).

import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@sluice/protocol';
import { type Clock, KeyedTimers } from '../clock.ts';
import type { Logger } from '../logger.ts';
import { type AssignmentMember, createAssignor } from './assignors.ts';
import type { GroupCoordinatorConfig } from './config.ts';
import {
  type Assignment,
  assignmentEquals,
  compactAssignment,
  ConsumerGroup,
  type ConsumerGroupMember,
  EMPTY_ASSIGNMENT,
  isSubset,
  JOIN_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  type MemberSubscription,
  newMember,
  reconcile,
  type TopicImage,
} from './consumer-group.ts';
import {
  CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT,
  CONSUMER_GROUP_MEMBER_METADATA,
  CONSUMER_GROUP_METADATA,
  CONSUMER_GROUP_PARTITION_METADATA,
  CONSUMER_GROUP_REGULAR_EXPRESSION,
  CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER,
  CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA,
  encodeConsumerKey,
  encodeCurrentMemberAssignmentValue,
  encodeGroupEpochValue,
  encodeMemberMetadataValue,
  encodePartitionMetadataValue,
  encodeRegularExpressionValue,
  encodeTargetAssignmentMemberValue,
} from './consumer-records.ts';
import { type AppendGroupRecords, type GroupLogRecord, groupLogErrorCode, groupWriteError } from './group-log.ts';
import { type ConsumerGroups, configuredAssignors, memberTombstones, preferredAssignor } from './consumer-groups.ts';
import { compileTopicRegex } from './topic-regex.ts';

/** The topics the broker has, as the consumer groups need them (passed in by the broker). */
export interface TopicImages {
  byName(name: string): TopicImage | undefined;
  /** Every topic, internal ones included (a regex may match them, as in Kafka). */
  all(): Iterable<TopicImage>;
}

export interface ConsumerHeartbeatInput {
  readonly apiVersion: number;
  readonly groupId: string;
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly rebalanceTimeoutMs: number;
  readonly subscribedTopicNames: readonly string[] | null;
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
  readonly topicPartitions: ReadonlyArray<{ readonly topicId: string; readonly partitions: readonly number[] }> | null;
  readonly clientId: string;
  readonly clientHost: string;
  /**
   * Whether this member may see a topic a regex resolves to (DESCRIBE, when an authorizer is on):
   * Kafka resolves the group's regexes with the context of the heartbeat that refreshes them and
   * leaves out the topics it may not describe. Absent or null: every topic.
   */
  readonly regexTopicVisible?: ((topic: string) => boolean) | null;
}

export interface ConsumerHeartbeatResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly memberId: string | null;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  /** null: unchanged since the member's last heartbeat (or an error). */
  readonly assignment: Assignment | null;
}

/** What a group probe reads (metrics). */
export interface ConsumerGroupStats {
  /** Group epoch bumps since start (rebalances in KIP-848 terms). */
  epochBumps: number;
  /** Members fenced for a missed session or an unacknowledged revocation. */
  fencedMembers: number;
  /** Sum and count of reconciliation times (group epoch bump until Stable), ms. */
  reconciliationMsSum: number;
  reconciliationCount: number;
}

export interface ConsumerGroupManagerOptions {
  readonly config: GroupCoordinatorConfig;
  readonly append: AppendGroupRecords;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly topics: TopicImages;
  /** The groups this manager runs (the coordinator's). */
  readonly groups: ConsumerGroups;
}

class HeartbeatError extends Error {
  readonly errorCode: number;
  constructor(errorCode: number, message: string) {
    super(message);
    this.errorCode = errorCode;
  }
}

/** One heartbeat's outcome before it is applied: records to write, then the state to apply. */
interface Change {
  readonly records: GroupLogRecord[];
  readonly apply: () => void;
}

export class ConsumerGroupManager {
  private readonly config: GroupCoordinatorConfig;
  private readonly append: AppendGroupRecords;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly topics: TopicImages;
  private readonly timers: KeyedTimers;
  private readonly groups: ConsumerGroups;
  /** When each group's epoch was last bumped while not Stable (reconciliation time). */
  private readonly reconcilingSince = new Map<string, number>();
  readonly stats: ConsumerGroupStats = { epochBumps: 0, fencedMembers: 0, reconciliationMsSum: 0, reconciliationCount: 0 };

  constructor(options: ConsumerGroupManagerOptions) {
    this.config = options.config;
    this.append = options.append;
    this.logger = options.logger;
    this.clock = options.clock;
    this.topics = options.topics;
    this.timers = new KeyedTimers(this.clock);
    this.groups = options.groups;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /** After replay: every member gets a fresh session. */
  startSessions(only: (groupId: string) => boolean = () => true): void {
    for (const group of this.groups.values()) {
      if (!only(group.groupId)) continue;
      for (const member of group.members.values()) this.scheduleSession(group.groupId, member.memberId);
    }
  }

  close(): void {
    this.timers.cancelAll();
  }

  // ---- ConsumerGroupHeartbeat ----------------------------------------------------------------

  async heartbeat(input: ConsumerHeartbeatInput): Promise<ConsumerHeartbeatResult> {
    const error = (errorCode: number, message: string | null): ConsumerHeartbeatResult => ({
      errorCode,
      errorMessage: message,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    let outcome: { change: Change; result: ConsumerHeartbeatResult };
    try {
      this.validate(input);
      outcome =
        input.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH
          ? this.leave(input)
          : this.memberHeartbeat(input);
    } catch (err) {
      if (err instanceof HeartbeatError) return error(err.errorCode, err.message);
      throw err;
    }
    const { change, result } = outcome;
    if (change.records.length === 0) {
      change.apply();
      return result;
    }
    let durable: Promise<void>;
    try {
      durable = this.append(input.groupId, change.records).durable;
    } catch (err) {
      return error(groupWriteError(groupLogErrorCode(err)), null);
    }
    change.apply();
    try {
      await durable;
    } catch (err) {
      return error(groupWriteError(groupLogErrorCode(err)), null);
    }
    return result;
  }

  /** Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid, then the assignor and regex checks. */
  private validate(input: ConsumerHeartbeatInput): void {
    const invalid = (message: string) => new HeartbeatError(ErrorCode.INVALID_REQUEST, message);
    if (input.groupId === '') throw invalid("GroupId can't be empty.");
    if (input.apiVersion >= 1 && input.memberId === '') throw invalid("MemberId can't be empty.");
    if (input.instanceId !== null && input.instanceId === '') throw invalid("InstanceId can't be empty.");
    if (input.rackId !== null && input.rackId === '') throw invalid("RackId can't be empty.");
    if (input.memberEpoch > 0 || input.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) {
      if (input.memberId === '') throw invalid("MemberId can't be empty.");
    } else if (input.memberEpoch === JOIN_GROUP_MEMBER_EPOCH) {
      if (input.rebalanceTimeoutMs === -1) throw invalid('RebalanceTimeoutMs must be provided in first request.');
      if (input.topicPartitions === null || input.topicPartitions.length > 0) throw invalid('TopicPartitions must be empty when (re-)joining.');
      if (input.subscribedTopicNames === null && input.subscribedTopicRegex === null) {
        throw invalid('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
      }
    } else if (input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (input.instanceId === null) throw invalid("InstanceId can't be null.");
    } else {
      throw invalid(`MemberEpoch is invalid: ${input.memberEpoch}`);
    }
    if (input.serverAssignor !== null && !this.assignors().includes(input.serverAssignor)) {
      throw new HeartbeatError(
        ErrorCode.UNSUPPORTED_ASSIGNOR,
        `ServerAssignor ${input.serverAssignor} is not supported. Supported assignors: ${this.assignors().join(', ')}.`,
      );
    }
    if (input.subscribedTopicRegex !== null && input.subscribedTopicRegex !== '') {
      const compiled = compileTopicRegex(input.subscribedTopicRegex);
      if (!compiled.ok) throw new HeartbeatError(ErrorCode.INVALID_REGULAR_EXPRESSION, compiled.message);
    }
  }

  private assignors(): string[] {
    return configuredAssignors(this.config);
  }

  private memberHeartbeat(input: ConsumerHeartbeatInput): { change: Change; result: ConsumerHeartbeatResult } {
    const joining = input.memberEpoch === JOIN_GROUP_MEMBER_EPOCH;
    const existing = this.groups.get(input.groupId);
    if (existing === undefined && !joining) throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${input.groupId} not found.`);
    const group = existing ?? new ConsumerGroup(input.groupId, this.clock.now());
    const records: GroupLogRecord[] = [];
    const applies: Array<() => void> = [];
    if (existing === undefined) applies.push(() => this.groups.set(group.groupId, group));

    // Find (or make) the member; Kafka's static and dynamic paths.
    let member: ConsumerGroupMember | undefined;
    let replacedStatic: ConsumerGroupMember | undefined;
    let memberId = input.memberId;
    if (input.instanceId !== null) {
      const staticMember = group.staticMember(input.instanceId);
      if (joining) {
        if (memberId === '') memberId = randomUUID();
        if (staticMember !== undefined) {
          // Kafka: an instance id may be taken over only once its holder left with epoch -2.
          if (staticMember.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
            throw new HeartbeatError(
              ErrorCode.UNRELEASED_INSTANCE_ID,
              `Static member ${memberId} with instance id ${input.instanceId} cannot join the group because the instance id is owned by ${staticMember.memberId} member.`,
            );
          }
          if (staticMember.memberId !== memberId) replacedStatic = staticMember;
          // The new instance takes over the old one's assignment and target, without a rebalance.
          member = { ...staticMember, memberId, memberEpoch: 0, previousMemberEpoch: 0 };
        }
      } else {
        if (staticMember === undefined) throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${input.instanceId} is unknown.`);
        if (staticMember.memberId !== memberId) {
          throw new HeartbeatError(
            ErrorCode.FENCED_INSTANCE_ID,
            `Static member ${memberId} with instance id ${input.instanceId} was fenced by member ${staticMember.memberId}.`,
          );
        }
        member = staticMember;
      }
    } else {
      if (joining && memberId === '') memberId = randomUUID();
      member = group.members.get(memberId);
      if (member === undefined && !joining)
        throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${input.groupId}.`);
    }
    const isNew = member === undefined || replacedStatic !== undefined;
    if (member === undefined && group.members.size >= this.config.consumerMaxSize) {
      throw new HeartbeatError(
        ErrorCode.GROUP_MAX_SIZE_REACHED,
        `The consumer group has reached its maximum capacity of ${this.config.consumerMaxSize} members.`,
      );
    }
    const owned = input.topicPartitions === null ? null : compactAssignment(input.topicPartitions.map((t) => [t.topicId, t.partitions]));
    // Kafka's throwIfConsumerGroupMemberEpochIsInvalid, for a join too: a known member rejoining
    // with epoch 0 is accepted only when 0 is its previous epoch (its join answer was lost).
    // A static member taking over a departed instance starts afresh at 0.
    if (member !== undefined && !(input.instanceId !== null && joining)) {
      if (input.memberEpoch > member.memberEpoch) {
        throw new HeartbeatError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a greater member epoch (${input.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
      if (
        input.memberEpoch < member.memberEpoch &&
        (input.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assignedPartitions))
      ) {
        throw new HeartbeatError(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a smaller member epoch (${input.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
    }

    // The member's subscription as it is after this request (null fields: unchanged).
    const before =
      member ??
      newMember(memberId, {
        instanceId: input.instanceId,
        rackId: null,
        clientId: input.clientId,
        clientHost: input.clientHost,
        rebalanceTimeoutMs: input.rebalanceTimeoutMs,
        subscribedTopicNames: [],
        subscribedTopicRegex: null,
        serverAssignor: null,
      });
    const subscription: MemberSubscription = {
      instanceId: input.instanceId ?? before.instanceId,
      rackId: input.rackId ?? before.rackId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs !== -1 ? input.rebalanceTimeoutMs : before.rebalanceTimeoutMs,
      subscribedTopicNames: input.subscribedTopicNames !== null ? [...input.subscribedTopicNames].sort() : before.subscribedTopicNames,
      subscribedTopicRegex:
        input.subscribedTopicRegex !== null ? (input.subscribedTopicRegex === '' ? null : input.subscribedTopicRegex) : before.subscribedTopicRegex,
      serverAssignor: input.serverAssignor ?? before.serverAssignor,
    };
    let updated: ConsumerGroupMember = { ...before, ...subscription, memberId };
    // A static member taking over a departed instance's place keeps its subscription: no bump
    // unless it subscribes differently.
    const subscriptionChanged =
      member === undefined ||
      !sameStrings(updated.subscribedTopicNames, before.subscribedTopicNames) ||
      updated.subscribedTopicRegex !== before.subscribedTopicRegex ||
      updated.serverAssignor !== before.serverAssignor;
    const metadataChanged =
      isNew ||
      subscriptionChanged ||
      updated.rackId !== before.rackId ||
      updated.instanceId !== before.instanceId ||
      updated.rebalanceTimeoutMs !== before.rebalanceTimeoutMs ||
      updated.clientId !== before.clientId ||
      updated.clientHost !== before.clientHost;

    // The group's members as they are after this request.
    const members = new Map(group.members);
    if (replacedStatic !== undefined) members.delete(replacedStatic.memberId);
    members.set(memberId, updated);

    if (replacedStatic !== undefined) records.push(...memberTombstones(group.groupId, replacedStatic.memberId));
    if (metadataChanged)
      records.push({ key: encodeConsumerKey(CONSUMER_GROUP_MEMBER_METADATA, group.groupId, memberId), value: encodeMemberMetadataValue(updated) });

    // The subscribed topics' metadata: a change (or a member joining/leaving the subscription)
    // bumps the group epoch.
    const visible = input.regexTopicVisible ?? null;
    const { metadata, regexes } = this.subscriptionMetadata(members.values(), (regex) => this.resolveRegex(regex, visible));
    let groupEpoch = group.groupEpoch;
    const metadataDiffers = !sameMetadata(metadata, group.subscriptionMetadata);
    if (metadataDiffers)
      records.push({ key: encodeConsumerKey(CONSUMER_GROUP_PARTITION_METADATA, group.groupId), value: encodePartitionMetadataValue(metadata.values()) });
    for (const [regex, topics] of regexes) {
      const previous = group.regexMatches.get(regex);
      if (previous === undefined || !sameStrings(previous, topics)) {
        records.push({
          key: encodeConsumerKey(CONSUMER_GROUP_REGULAR_EXPRESSION, group.groupId, regex),
          value: encodeRegularExpressionValue({ topics, version: groupEpoch + 1, timestamp: this.clock.now() }),
        });
      }
    }
    for (const regex of group.regexMatches.keys()) {
      if (!regexes.has(regex)) records.push({ key: encodeConsumerKey(CONSUMER_GROUP_REGULAR_EXPRESSION, group.groupId, regex), value: null });
    }
    if (subscriptionChanged || metadataDiffers) {
      groupEpoch += 1;
      records.push({ key: encodeConsumerKey(CONSUMER_GROUP_METADATA, group.groupId), value: encodeGroupEpochValue(groupEpoch) });
    }

    // The target assignment, recomputed when the group epoch moved ahead of it.
    let target = new Map(group.targetAssignment);
    if (replacedStatic !== undefined) {
      target.set(memberId, target.get(replacedStatic.memberId) ?? EMPTY_ASSIGNMENT);
      target.delete(replacedStatic.memberId);
      records.push({
        key: encodeConsumerKey(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, group.groupId, memberId),
        value: encodeTargetAssignmentMemberValue(target.get(memberId)!),
      });
    }
    let assignmentEpoch = group.assignmentEpoch;
    if (groupEpoch > assignmentEpoch) {
      const computed = this.computeTargetAssignment(members, metadata, regexes, target);
      for (const [id, assignment] of computed) {
        if (!assignmentEquals(assignment, target.get(id) ?? EMPTY_ASSIGNMENT) || !target.has(id)) {
          records.push({
            key: encodeConsumerKey(CONSUMER_GROUP_TARGET_ASSIGNMENT_MEMBER, group.groupId, id),
            value: encodeTargetAssignmentMemberValue(assignment),
          });
        }
      }
      target = computed;
      assignmentEpoch = groupEpoch;
      records.push({ key: encodeConsumerKey(CONSUMER_GROUP_TARGET_ASSIGNMENT_METADATA, group.groupId), value: encodeGroupEpochValue(assignmentEpoch) });
    }

    // Reconcile the member towards its target.
    const reconciled = reconcile(group, updated, assignmentEpoch, target.get(memberId) ?? EMPTY_ASSIGNMENT, owned);
    const assignmentChanged =
      reconciled !== updated ||
      isNew ||
      reconciled.memberEpoch !== before.memberEpoch ||
      !assignmentEquals(reconciled.assignedPartitions, before.assignedPartitions);
    updated = reconciled;
    if (assignmentChanged)
      records.push({
        key: encodeConsumerKey(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, group.groupId, memberId),
        value: encodeCurrentMemberAssignmentValue(updated),
      });

    const finalMember = updated;
    const finalTarget = target;
    const finalEpoch = groupEpoch;
    const finalAssignmentEpoch = assignmentEpoch;
    applies.push(() => {
      const wasStable = group.state === 'Stable';
      if (replacedStatic !== undefined) {
        group.updateMember(replacedStatic.memberId, undefined);
        this.timers.cancel(sessionKey(group.groupId, replacedStatic.memberId));
        this.timers.cancel(rebalanceKey(group.groupId, replacedStatic.memberId));
        this.logger.info(
          { group: group.groupId, instanceId: finalMember.instanceId, oldMemberId: replacedStatic.memberId, memberId },
          'static member rejoined with a new member id',
        );
      }
      group.updateMember(memberId, finalMember);
      if (finalEpoch !== group.groupEpoch) {
        this.stats.epochBumps++;
        if (wasStable || !this.reconcilingSince.has(group.groupId)) this.reconcilingSince.set(group.groupId, this.clock.now());
        this.logger.info({ group: group.groupId, groupEpoch: finalEpoch, memberId, joined: isNew }, 'consumer group epoch bumped');
      }
      group.groupEpoch = finalEpoch;
      group.subscriptionMetadata = metadata;
      group.regexMatches.clear();
      for (const [regex, topics] of regexes) group.regexMatches.set(regex, topics);
      group.targetAssignment.clear();
      for (const [id, a] of finalTarget) group.targetAssignment.set(id, a);
      group.assignmentEpoch = finalAssignmentEpoch;
      this.scheduleSession(group.groupId, memberId);
      this.scheduleRebalanceTimeout(group, before, finalMember);
      this.noteReconciliation(group);
    });

    const fullRequest =
      input.rebalanceTimeoutMs !== -1 && (input.subscribedTopicNames !== null || input.subscribedTopicRegex !== null) && input.topicPartitions !== null;
    const sendAssignment = joining || fullRequest || !assignmentEquals(finalMember.assignedPartitions, before.assignedPartitions) || isNew;
    return {
      change: { records, apply: () => applies.forEach((f) => f()) },
      result: {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        memberId,
        memberEpoch: finalMember.memberEpoch,
        heartbeatIntervalMs: this.config.consumerHeartbeatIntervalMs,
        assignment: sendAssignment ? finalMember.assignedPartitions : null,
      },
    };
  }

  private leave(input: ConsumerHeartbeatInput): { change: Change; result: ConsumerHeartbeatResult } {
    const group = this.groups.get(input.groupId);
    if (group === undefined) throw new HeartbeatError(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${input.groupId} not found.`);
    let member: ConsumerGroupMember | undefined;
    if (input.instanceId !== null) {
      member = group.staticMember(input.instanceId);
      if (member === undefined) throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${input.instanceId} is unknown.`);
      if (member.memberId !== input.memberId)
        throw new HeartbeatError(
          ErrorCode.FENCED_INSTANCE_ID,
          `Static member ${input.memberId} with instance id ${input.instanceId} was fenced by member ${member.memberId}.`,
        );
    } else {
      member = group.members.get(input.memberId);
      if (member === undefined) throw new HeartbeatError(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${input.memberId} is not a member of group ${input.groupId}.`);
    }
    const left = member;
    const result = (memberEpoch: number): ConsumerHeartbeatResult => ({
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: left.memberId,
      memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    if (input.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // A static member leaving temporarily: it keeps its partitions until its session expires.
      const updated: ConsumerGroupMember = { ...left, memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH, partitionsPendingRevocation: EMPTY_ASSIGNMENT };
      return {
        change: {
          records: [
            {
              key: encodeConsumerKey(CONSUMER_GROUP_CURRENT_MEMBER_ASSIGNMENT, group.groupId, left.memberId),
              value: encodeCurrentMemberAssignmentValue(updated),
            },
          ],
          apply: () => {
            group.updateMember(left.memberId, updated);
            this.timers.cancel(rebalanceKey(group.groupId, left.memberId));
            this.logger.info({ group: group.groupId, memberId: left.memberId, instanceId: left.instanceId }, 'static member left temporarily');
          },
        },
        result: result(LEAVE_GROUP_STATIC_MEMBER_EPOCH),
      };
    }
    return { change: this.removeMemberChange(group, left, 'left the group'), result: result(LEAVE_GROUP_MEMBER_EPOCH) };
  }

  /** Removing a member: its records deleted and the group epoch bumped (Kafka's fenceMember). */
  private removeMemberChange(group: ConsumerGroup, member: ConsumerGroupMember, why: string): Change {
    const groupEpoch = group.groupEpoch + 1;
    const remaining = [...group.members.values()].filter((m) => m.memberId !== member.memberId);
    // The regexes keep what they last resolved to (Kafka refreshes them on heartbeats only).
    const { metadata } = this.subscriptionMetadata(remaining, (regex) => [...(group.regexMatches.get(regex) ?? [])]);
    const records: GroupLogRecord[] = [...memberTombstones(group.groupId, member.memberId)];
    const metadataDiffers = !sameMetadata(metadata, group.subscriptionMetadata);
    if (metadataDiffers)
      records.push({ key: encodeConsumerKey(CONSUMER_GROUP_PARTITION_METADATA, group.groupId), value: encodePartitionMetadataValue(metadata.values()) });
    records.push({ key: encodeConsumerKey(CONSUMER_GROUP_METADATA, group.groupId), value: encodeGroupEpochValue(groupEpoch) });
    return {
      records,
      apply: () => {
        group.updateMember(member.memberId, undefined);
        group.targetAssignment.delete(member.memberId);
        group.groupEpoch = groupEpoch;
        group.subscriptionMetadata = metadata;
        if (group.members.size === 0) group.emptySince = this.clock.now();
        this.stats.epochBumps++;
        this.reconcilingSince.set(group.groupId, this.clock.now());
        this.timers.cancel(sessionKey(group.groupId, member.memberId));
        this.timers.cancel(rebalanceKey(group.groupId, member.memberId));
        this.logger.info({ group: group.groupId, memberId: member.memberId, groupEpoch }, `consumer group member ${why}`);
        this.noteReconciliation(group);
      },
    };
  }

  /** Fences a member (session expired, revocation not acknowledged); a failed write is retried by the next timer. */
  private fence(groupId: string, memberId: string, why: string): void {
    const group = this.groups.get(groupId);
    const member = group?.members.get(memberId);
    if (group === undefined || member === undefined) return;
    const change = this.removeMemberChange(group, member, why);
    try {
      this.append(groupId, change.records).durable.catch((err) => this.logger.warn({ group: groupId, err }, 'flushing a fenced member failed'));
    } catch (err) {
      this.logger.warn(
        { group: groupId, memberId, errorCode: groupLogErrorCode(err) },
        'could not write a fenced member; retrying at the next session timeout',
      );
      this.scheduleSession(groupId, memberId);
      return;
    }
    this.stats.fencedMembers++;
    change.apply();
  }

  private scheduleSession(groupId: string, memberId: string): void {
    this.timers.schedule(sessionKey(groupId, memberId), this.config.consumerSessionTimeoutMs, () =>
      this.fence(groupId, memberId, 'was fenced: session timed out'),
    );
  }

  /** A member that starts revoking must finish within its rebalance timeout, else it is fenced. */
  private scheduleRebalanceTimeout(group: ConsumerGroup, before: ConsumerGroupMember, after: ConsumerGroupMember): void {
    const key = rebalanceKey(group.groupId, after.memberId);
    if (after.state !== 'unrevoked_partitions') {
      this.timers.cancel(key);
      return;
    }
    if (before.state === 'unrevoked_partitions' && before.memberEpoch === after.memberEpoch) return;
    const epoch = after.memberEpoch;
    this.timers.schedule(key, after.rebalanceTimeoutMs, () => {
      const now = group.members.get(after.memberId);
      if (now !== undefined && now.state === 'unrevoked_partitions' && now.memberEpoch === epoch)
        this.fence(group.groupId, after.memberId, 'was fenced: partitions not revoked within the rebalance timeout');
    });
  }

  private noteReconciliation(group: ConsumerGroup): void {
    const since = this.reconcilingSince.get(group.groupId);
    if (since === undefined || group.state !== 'Stable') return;
    this.stats.reconciliationMsSum += this.clock.now() - since;
    this.stats.reconciliationCount++;
    this.reconcilingSince.delete(group.groupId);
  }

  /** The subscribed topics (names and regex matches) that exist, and what each regex matched. */
  private subscriptionMetadata(
    members: Iterable<ConsumerGroupMember>,
    resolve: (regex: string) => string[],
  ): { metadata: Map<string, TopicImage>; regexes: Map<string, string[]> } {
    const names = new Set<string>();
    const regexes = new Map<string, string[]>();
    for (const m of members) {
      for (const t of m.subscribedTopicNames) names.add(t);
      if (m.subscribedTopicRegex !== null && !regexes.has(m.subscribedTopicRegex)) regexes.set(m.subscribedTopicRegex, resolve(m.subscribedTopicRegex));
    }
    for (const topics of regexes.values()) for (const t of topics) names.add(t);
    const metadata = new Map<string, TopicImage>();
    for (const name of [...names].sort()) {
      const image = this.topics.byName(name);
      if (image !== undefined) metadata.set(name, image);
    }
    return { metadata, regexes };
  }

  private resolveRegex(regex: string, visible: ((topic: string) => boolean) | null): string[] {
    const compiled = compileTopicRegex(regex);
    if (!compiled.ok) return [];
    const out: string[] = [];
    // Internal topics too, as Kafka resolves regexes over every topic in its metadata image.
    for (const t of this.topics.all()) if (compiled.regex.test(t.name) && (visible === null || visible(t.name))) out.push(t.name);
    return out.sort();
  }

  private computeTargetAssignment(
    members: ReadonlyMap<string, ConsumerGroupMember>,
    metadata: ReadonlyMap<string, TopicImage>,
    regexes: ReadonlyMap<string, readonly string[]>,
    previous: ReadonlyMap<string, Assignment>,
  ): Map<string, Assignment> {
    const topicsById = new Map<string, TopicImage>();
    for (const t of metadata.values()) topicsById.set(t.id, t);
    const assignmentMembers: AssignmentMember[] = [...members.values()].map((m) => {
      const names = [...m.subscribedTopicNames, ...(m.subscribedTopicRegex !== null ? (regexes.get(m.subscribedTopicRegex) ?? []) : [])];
      const ids = new Set<string>();
      for (const n of names) {
        const image = metadata.get(n);
        if (image !== undefined) ids.add(image.id);
      }
      return { memberId: m.memberId, subscribedTopicIds: ids, previous: previous.get(m.memberId) ?? EMPTY_ASSIGNMENT };
    });
    return createAssignor(preferredAssignor(members.values(), this.assignors())).assign(assignmentMembers, topicsById);
  }

  forgetGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    for (const memberId of group.members.keys()) {
      this.timers.cancel(sessionKey(groupId, memberId));
      this.timers.cancel(rebalanceKey(groupId, memberId));
    }
    this.groups.delete(groupId);
    this.reconcilingSince.delete(groupId);
  }
}

function sessionKey(groupId: string, memberId: string): string {
  return `consumer-session-${groupId}-${memberId}`;
}

function rebalanceKey(groupId: string, memberId: string): string {
  return `consumer-rebalance-${groupId}-${memberId}`;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameMetadata(a: ReadonlyMap<string, TopicImage>, b: ReadonlyMap<string, TopicImage>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, t] of a) {
    const o = b.get(name);
    if (o === undefined || o.id !== t.id || o.partitionCount !== t.partitionCount) return false;
  }
  return true;
}

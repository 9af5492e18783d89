// Share-group membership (KIP-932): ShareGroupHeartbeat and ShareGroupDescribe.
//
// A member joins with epoch 0 and the id it made itself, heartbeats with the epoch it was last
// given, and leaves with epoch -1. There is no revocation step (a share partition may be read by
// several members at once), so a member moves to the group's new assignment at its next
// heartbeat: the group epoch grows whenever membership, a subscription or a subscribed topic's
// partition count changes; the target assignment is recomputed then (the `simple` assignor,
// below); a member's epoch becomes the group epoch when its heartbeat hands it that assignment.
// Errors are Kafka's: INVALID_REQUEST (no member id, no subscription on join), UNKNOWN_MEMBER_ID,
// FENCED_MEMBER_EPOCH, GROUP_MAX_SIZE_REACHED. A member silent for group.share.session.timeout.ms
// is removed, and the records it held are released (the `onMemberRemoved` listener).
//
// The `simple` assignor, for every subscribed topic: with no more members than partitions, each
// partition goes to one member (round-robin over members sorted by id); with more members than
// partitions, each member gets one partition and partitions are shared. Members subscribed to
// different topics are assigned topic by topic among the members subscribed to each.
//
// Membership is kept in memory: after a broker restart members get UNKNOWN_MEMBER_ID and rejoin
// (the records they held are redelivered; share-partition state itself is persisted).
//
// Concurrency: event loop only. Timers come from the injected Clock.

import { ErrorCode } from '@sluice/protocol';
import { type Clock, KeyedTimers } from '../clock.ts';
import type { TopicImages } from '../groups/consumer-group-manager.ts';
import type { ShareGroupConfig } from './config.ts';

export interface ShareMember {
  readonly memberId: string;
  epoch: number;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  /** Partitions currently assigned: topic id → partitions. */
  assignment: Map<string, number[]>;
}

export interface ShareGroup {
  readonly groupId: string;
  epoch: number;
  assignmentEpoch: number;
  /** The subscribed topics' (name, id, partition count) the assignment was computed from. */
  metadataKey: string;
  readonly members: Map<string, ShareMember>;
  /** The target assignment of each member, for the group epoch. */
  target: Map<string, Map<string, number[]>>;
}

export interface ShareHeartbeatInput {
  readonly groupId: string;
  readonly memberId: string;
  readonly memberEpoch: number;
  readonly rackId: string | null;
  readonly subscribedTopicNames: readonly string[] | null;
  readonly clientId: string;
  readonly clientHost: string;
}

export interface ShareHeartbeatResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly memberId: string | null;
  readonly memberEpoch: number;
  readonly heartbeatIntervalMs: number;
  /** topic id → partitions, when the member's assignment is handed out; null when unchanged. */
  readonly assignment: ReadonlyMap<string, readonly number[]> | null;
}

export interface DescribedShareGroup {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly groupId: string;
  readonly groupState: string;
  readonly groupEpoch: number;
  readonly assignmentEpoch: number;
  readonly members: readonly ShareMember[];
}

export interface ShareGroupManagerOptions {
  /** The group's effective settings (its group-level configs over the broker's). */
  readonly configFor: (groupId: string) => ShareGroupConfig;
  readonly clock: Clock;
  readonly topics: TopicImages;
  /** Called when a member leaves or is removed (its held records are released). */
  readonly onMemberRemoved: (groupId: string, memberId: string) => void;
}

const error = (errorCode: number, errorMessage: string | null, memberId: string | null = null): ShareHeartbeatResult => ({
  errorCode,
  errorMessage,
  memberId,
  memberEpoch: 0,
  heartbeatIntervalMs: 0,
  assignment: null,
});

export class ShareGroupManager {
  private readonly configFor: (groupId: string) => ShareGroupConfig;
  private readonly clock: Clock;
  private readonly topics: TopicImages;
  private readonly timers: KeyedTimers;
  private readonly onMemberRemoved: (groupId: string, memberId: string) => void;
  private readonly groups = new Map<string, ShareGroup>();

  constructor(options: ShareGroupManagerOptions) {
    this.configFor = options.configFor;
    this.clock = options.clock;
    this.topics = options.topics;
    this.timers = new KeyedTimers(options.clock);
    this.onMemberRemoved = options.onMemberRemoved;
  }

  group(groupId: string): ShareGroup | undefined {
    return this.groups.get(groupId);
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  heartbeat(input: ShareHeartbeatInput): ShareHeartbeatResult {
    if (input.groupId === '') return error(ErrorCode.INVALID_REQUEST, 'GroupId can not be empty.');
    if (input.memberId === '') return error(ErrorCode.INVALID_REQUEST, 'MemberId can not be empty.');
    if (input.memberEpoch < -1) return error(ErrorCode.INVALID_REQUEST, `MemberEpoch is ${input.memberEpoch}, but must be greater than or equal to -1.`);
    let group = this.groups.get(input.groupId);
    if (input.memberEpoch === -1) {
      if (group?.members.has(input.memberId)) this.removeMember(group, input.memberId);
      return { errorCode: 0, errorMessage: null, memberId: input.memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
    }
    let member = group?.members.get(input.memberId);
    if (input.memberEpoch === 0) {
      if (member === undefined && (input.subscribedTopicNames === null || input.subscribedTopicNames.length === 0)) {
        return error(ErrorCode.INVALID_REQUEST, 'SubscribedTopicNames must be set in first request.');
      }
      group ??= this.ensureGroup(input.groupId);
      if (member === undefined) {
        const maxSize = this.configFor(group.groupId).maxSize;
        if (group.members.size >= maxSize) {
          return error(ErrorCode.GROUP_MAX_SIZE_REACHED, `The share group has reached its maximum capacity of ${maxSize} members.`);
        }
        member = {
          memberId: input.memberId,
          epoch: 0,
          rackId: null,
          clientId: input.clientId,
          clientHost: input.clientHost,
          subscribedTopicNames: [],
          assignment: new Map(),
        };
        group.members.set(input.memberId, member);
        group.epoch++;
      } else {
        // A rejoin with epoch 0 starts the member over (as after a fencing on the client's side).
        member.epoch = 0;
      }
    } else {
      if (group === undefined || member === undefined)
        return error(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${input.memberId} is not a member of group ${input.groupId}.`);
      if (input.memberEpoch !== member.epoch) {
        return error(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The share group member has a smaller member epoch (${input.memberEpoch}) than the one known by the group coordinator (${member.epoch}).`,
        );
      }
    }
    if (input.rackId !== null) member.rackId = input.rackId;
    if (input.subscribedTopicNames !== null) {
      const names = [...new Set(input.subscribedTopicNames)].sort();
      if (names.join('\0') !== member.subscribedTopicNames.join('\0')) {
        member.subscribedTopicNames = names;
        group.epoch++;
      }
    }
    this.refreshTarget(group);
    let assignment: ReadonlyMap<string, readonly number[]> | null = null;
    if (member.epoch !== group.epoch) {
      member.assignment = group.target.get(member.memberId) ?? new Map();
      member.epoch = group.epoch;
      assignment = member.assignment;
    } else if (input.memberEpoch === 0) {
      assignment = member.assignment;
    }
    this.scheduleSessionTimeout(group, member.memberId);
    return {
      errorCode: 0,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.epoch,
      heartbeatIntervalMs: this.configFor(group.groupId).heartbeatIntervalMs,
      assignment,
    };
  }

  /** The group, created empty when it does not exist (AlterShareGroupOffsets creates share groups). */
  ensureGroup(groupId: string): ShareGroup {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = { groupId, epoch: 0, assignmentEpoch: 0, metadataKey: '', members: new Map(), target: new Map() };
      this.groups.set(groupId, group);
    }
    return group;
  }

  describe(groupId: string): DescribedShareGroup | undefined {
    const group = this.groups.get(groupId);
    if (group === undefined) return undefined;
    this.refreshTarget(group);
    return {
      errorCode: 0,
      errorMessage: null,
      groupId,
      groupState: group.members.size === 0 ? 'Empty' : 'Stable',
      groupEpoch: group.epoch,
      assignmentEpoch: group.assignmentEpoch,
      members: [...group.members.values()],
    };
  }

  /** Removes an empty share group (DeleteGroups); false when it has members or does not exist. */
  deleteGroup(groupId: string): boolean {
    const group = this.groups.get(groupId);
    if (group === undefined || group.members.size > 0) return false;
    this.groups.delete(groupId);
    return true;
  }

  close(): void {
    for (const group of this.groups.values()) for (const memberId of group.members.keys()) this.timers.cancel(sessionKey(group.groupId, memberId));
  }

  private scheduleSessionTimeout(group: ShareGroup, memberId: string): void {
    this.timers.schedule(sessionKey(group.groupId, memberId), this.configFor(group.groupId).sessionTimeoutMs, () => {
      if (this.groups.get(group.groupId) === group && group.members.has(memberId)) this.removeMember(group, memberId);
    });
  }

  private removeMember(group: ShareGroup, memberId: string): void {
    this.timers.cancel(sessionKey(group.groupId, memberId));
    group.members.delete(memberId);
    group.epoch++;
    this.refreshTarget(group);
    this.onMemberRemoved(group.groupId, memberId);
  }

  /** Recomputes the target assignment when the group epoch or the subscribed topics changed. */
  private refreshTarget(group: ShareGroup): void {
    const names = new Set<string>();
    for (const m of group.members.values()) for (const n of m.subscribedTopicNames) names.add(n);
    const images = [...names].sort().flatMap((n) => {
      const image = this.topics.byName(n);
      return image === undefined ? [] : [image];
    });
    const metadataKey = images.map((t) => `${t.name}:${t.id}:${t.partitionCount}`).join(',');
    if (metadataKey !== group.metadataKey) {
      group.metadataKey = metadataKey;
      if (group.assignmentEpoch === group.epoch) group.epoch++;
    }
    if (group.assignmentEpoch === group.epoch) return;
    group.target = simpleAssignment(group, images);
    group.assignmentEpoch = group.epoch;
  }
}

/** The `simple` assignor (see the header). */
export function simpleAssignment(
  group: Pick<ShareGroup, 'members'>,
  topics: ReadonlyArray<{ readonly id: string; readonly name: string; readonly partitionCount: number }>,
): Map<string, Map<string, number[]>> {
  const target = new Map<string, Map<string, number[]>>();
  for (const memberId of group.members.keys()) target.set(memberId, new Map());
  for (const topic of topics) {
    const members = [...group.members.values()]
      .filter((m) => m.subscribedTopicNames.includes(topic.name))
      .map((m) => m.memberId)
      .sort();
    if (members.length === 0 || topic.partitionCount === 0) continue;
    const give = (memberId: string, partition: number) => {
      const byTopic = target.get(memberId)!;
      const list = byTopic.get(topic.id) ?? [];
      list.push(partition);
      byTopic.set(topic.id, list);
    };
    if (members.length <= topic.partitionCount) {
      for (let p = 0; p < topic.partitionCount; p++) give(members[p % members.length], p);
    } else {
      members.forEach((memberId, i) => give(memberId, i % topic.partitionCount));
    }
  }
  return target;
}

function sessionKey(groupId: string, memberId: string): string {
  return `share-session-${groupId}-${memberId}`;
}

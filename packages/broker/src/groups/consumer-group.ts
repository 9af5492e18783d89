// A KIP-848 consumer group's state, as Kafka's ConsumerGroup and ConsumerGroupMember: the group
// epoch (bumped whenever membership, subscriptions or the subscribed topics' metadata change),
// the target assignment and its epoch (what the assignor computed for the latest group epoch),
// and per member its epoch, its current assignment and the partitions it must still revoke.
// The consumer-group manager (consumer-group-manager.ts) drives the changes and writes them to the
// log; this file keeps the bookkeeping and the reconciliation step (Kafka's
// CurrentAssignmentBuilder), which depend on nothing else.
//
// States (Kafka's ConsumerGroupState, derived, never stored):
//   Empty        no members
//   Assigning    the target assignment is behind the group epoch
//   Reconciling  some member has not reached the target assignment epoch, or is still revoking
//   Stable       every member is at the target assignment epoch and holds its target
//
// Assignments are keyed by topic id (the 32-char hex uuid), as on the wire.
//
// Concurrency: event loop only; held by the ConsumerGroupManager.

/** Partitions by topic id. */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

export const EMPTY_ASSIGNMENT: Assignment = new Map();

export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';
export const CONSUMER_GROUP_STATES: readonly ConsumerGroupState[] = ['Empty', 'Assigning', 'Reconciling', 'Stable'];

/** Kafka's MemberState (its record byte is the ordinal used by CurrentMemberAssignment). */
export type MemberState = 'stable' | 'unrevoked_partitions' | 'unreleased_partitions' | 'unknown';
export const MEMBER_STATE_BYTES: Readonly<Record<MemberState, number>> = {
  stable: 1,
  unrevoked_partitions: 2,
  unreleased_partitions: 3,
  unknown: 127,
};

/** Member epochs the protocol gives a meaning to. */
export const JOIN_GROUP_MEMBER_EPOCH = 0;
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

/** A topic as the group sees it: what the assignor needs. */
export interface TopicImage {
  readonly id: string;
  readonly name: string;
  readonly partitionCount: number;
}

/** What the member says about itself (ConsumerGroupMemberMetadata). */
export interface MemberSubscription {
  readonly instanceId: string | null;
  readonly rackId: string | null;
  readonly clientId: string;
  readonly clientHost: string;
  readonly rebalanceTimeoutMs: number;
  readonly subscribedTopicNames: readonly string[];
  readonly subscribedTopicRegex: string | null;
  readonly serverAssignor: string | null;
}

/** Where the member stands in the reconciliation (ConsumerGroupCurrentMemberAssignment). */
export interface MemberAssignmentState {
  readonly memberEpoch: number;
  readonly previousMemberEpoch: number;
  readonly state: MemberState;
  /** Partitions the member may use now. */
  readonly assignedPartitions: Assignment;
  /** Partitions the member must give up before it may move on. */
  readonly partitionsPendingRevocation: Assignment;
}

export interface ConsumerGroupMember extends MemberSubscription, MemberAssignmentState {
  readonly memberId: string;
}

export function newMember(memberId: string, subscription: MemberSubscription): ConsumerGroupMember {
  return {
    memberId,
    ...subscription,
    memberEpoch: 0,
    previousMemberEpoch: 0,
    state: 'stable',
    assignedPartitions: EMPTY_ASSIGNMENT,
    partitionsPendingRevocation: EMPTY_ASSIGNMENT,
  };
}

export function assignmentEquals(a: Assignment, b: Assignment): boolean {
  if (a.size !== b.size) return false;
  for (const [topic, partitions] of a) {
    const other = b.get(topic);
    if (other === undefined || other.size !== partitions.size) return false;
    for (const p of partitions) if (!other.has(p)) return false;
  }
  return true;
}

export function assignmentSize(a: Assignment): number {
  let n = 0;
  for (const partitions of a.values()) n += partitions.size;
  return n;
}

/** Whether every partition of `subset` is in `of`. */
export function isSubset(subset: Assignment, of: Assignment): boolean {
  for (const [topic, partitions] of subset) {
    const other = of.get(topic);
    for (const p of partitions) if (other === undefined || !other.has(p)) return false;
  }
  return true;
}

/** Drops empty topics so equal assignments compare equal. */
export function compactAssignment(entries: Iterable<[string, Iterable<number>]>): Assignment {
  const out = new Map<string, ReadonlySet<number>>();
  for (const [topic, partitions] of entries) {
    const set = new Set(partitions);
    if (set.size > 0) out.set(topic, set);
  }
  return out;
}

export class ConsumerGroup {
  readonly groupId: string;
  groupEpoch = 0;
  /** The epoch of the target assignment (the group epoch it was computed for). */
  assignmentEpoch = 0;
  /** The subscribed topics' metadata the target assignment was computed from, by name. */
  subscriptionMetadata: ReadonlyMap<string, TopicImage> = new Map();
  readonly members = new Map<string, ConsumerGroupMember>();
  /** The target assignment, by member id. */
  readonly targetAssignment = new Map<string, Assignment>();
  /** Compiled subscription regexes and the topics each one matched at the last metadata check. */
  readonly regexMatches = new Map<string, readonly string[]>();
  /** Who owns each partition now (assigned or pending revocation): topic id -> partition -> member epoch. */
  private readonly partitionEpochs = new Map<string, Map<number, number>>();
  /** ms since the epoch the group was last changed (for offset expiry when Empty). */
  emptySince: number;

  constructor(groupId: string, nowMs: number) {
    this.groupId = groupId;
    this.emptySince = nowMs;
  }

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch !== this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'stable') return 'Reconciling';
    }
    return 'Stable';
  }

  staticMember(instanceId: string): ConsumerGroupMember | undefined {
    for (const m of this.members.values()) if (m.instanceId === instanceId) return m;
    return undefined;
  }

  targetOf(memberId: string): Assignment {
    return this.targetAssignment.get(memberId) ?? EMPTY_ASSIGNMENT;
  }

  /** The epoch of the member owning the partition, -1 when no member holds it. */
  partitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(topicId)?.get(partition) ?? -1;
  }

  /** Adds, replaces or (with `updated` undefined) removes a member, keeping partition ownership right. */
  updateMember(memberId: string, updated: ConsumerGroupMember | undefined): void {
    const previous = this.members.get(memberId);
    if (previous !== undefined) {
      this.releasePartitions(previous.assignedPartitions);
      this.releasePartitions(previous.partitionsPendingRevocation);
    }
    if (updated === undefined) {
      this.members.delete(memberId);
      return;
    }
    this.members.set(memberId, updated);
    this.claimPartitions(updated.assignedPartitions, updated.memberEpoch);
    this.claimPartitions(updated.partitionsPendingRevocation, updated.memberEpoch);
  }

  private releasePartitions(a: Assignment): void {
    for (const [topic, partitions] of a) {
      const owners = this.partitionEpochs.get(topic);
      if (owners === undefined) continue;
      for (const p of partitions) owners.delete(p);
      if (owners.size === 0) this.partitionEpochs.delete(topic);
    }
  }

  private claimPartitions(a: Assignment, epoch: number): void {
    for (const [topic, partitions] of a) {
      let owners = this.partitionEpochs.get(topic);
      if (owners === undefined) {
        owners = new Map();
        this.partitionEpochs.set(topic, owners);
      }
      for (const p of partitions) owners.set(p, epoch);
    }
  }

  /** Every topic name some member subscribes to by name (regex matches are added by the manager). */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) names.add(t);
    return names;
  }
}

/**
 * Kafka's CurrentAssignmentBuilder: the member's next step towards its target. A partition newly
 * targeted to the member is given only once no other member owns it; a partition leaving the
 * member is first put pending revocation, and the member moves to the target epoch only once it
 * reported (`ownedTopicPartitions`, null when the request did not say) that it gave them up.
 */
export function reconcile(
  group: ConsumerGroup,
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: Assignment,
  ownedTopicPartitions: Assignment | null,
): ConsumerGroupMember {
  // Kafka: a member that still owns partitions it was asked to give up stays where it is.
  const ownsAnyOf = (revoking: Assignment): boolean => {
    if (ownedTopicPartitions === null) return true;
    for (const [topic, partitions] of revoking) {
      const owned = ownedTopicPartitions.get(topic);
      if (owned === undefined) continue;
      for (const p of partitions) if (owned.has(p)) return true;
    }
    return false;
  };
  switch (member.state) {
    case 'stable':
      if (member.memberEpoch === targetEpoch) return member;
      return nextAssignment(group, member, member.memberEpoch, targetEpoch, target, ownsAnyOf);
    case 'unrevoked_partitions':
      if (ownsAnyOf(member.partitionsPendingRevocation)) return member;
      // Revocation acknowledged: the member moves on (one epoch at a time, never past the target).
      return nextAssignment(group, member, Math.min(member.memberEpoch + 1, targetEpoch), targetEpoch, target, ownsAnyOf);
    case 'unreleased_partitions':
    case 'unknown':
      return nextAssignment(group, member, member.memberEpoch, targetEpoch, target, ownsAnyOf);
  }
}

function nextAssignment(
  group: ConsumerGroup,
  member: ConsumerGroupMember,
  memberEpoch: number,
  targetEpoch: number,
  target: Assignment,
  ownsAnyOf: (a: Assignment) => boolean,
): ConsumerGroupMember {
  const kept = new Map<string, Set<number>>();
  const revoking = new Map<string, Set<number>>();
  const adding = new Map<string, Set<number>>();
  let unreleased = false;
  const topics = new Set([...target.keys(), ...member.assignedPartitions.keys()]);
  for (const topic of topics) {
    const want = target.get(topic) ?? new Set<number>();
    const have = member.assignedPartitions.get(topic) ?? new Set<number>();
    for (const p of have) addTo(want.has(p) ? kept : revoking, topic, p);
    for (const p of want) {
      if (have.has(p)) continue;
      // Still held by another member (assigned or pending its revocation): wait for its release.
      const owner = group.partitionEpoch(topic, p);
      if (owner !== -1 && !ownedByItself(member, topic, p)) {
        unreleased = true;
        continue;
      }
      addTo(adding, topic, p);
    }
  }
  const keptAssignment = compactAssignment(kept);
  const revokingAssignment = compactAssignment(revoking);
  const base = { ...member, previousMemberEpoch: member.memberEpoch };
  if (revokingAssignment.size > 0 && ownsAnyOf(revokingAssignment)) {
    return { ...base, state: 'unrevoked_partitions', memberEpoch, assignedPartitions: keptAssignment, partitionsPendingRevocation: revokingAssignment };
  }
  const assigned = compactAssignment([...topics].map((t) => [t, [...(kept.get(t) ?? []), ...(adding.get(t) ?? [])]]));
  return {
    ...base,
    state: unreleased ? 'unreleased_partitions' : 'stable',
    memberEpoch: targetEpoch,
    assignedPartitions: assigned,
    partitionsPendingRevocation: EMPTY_ASSIGNMENT,
  };
}

function addTo(a: Map<string, Set<number>>, topic: string, partition: number): void {
  let set = a.get(topic);
  if (set === undefined) {
    set = new Set();
    a.set(topic, set);
  }
  set.add(partition);
}

/** The member's own pending revocation does not block it from being given the partition back. */
function ownedByItself(member: ConsumerGroupMember, topic: string, partition: number): boolean {
  return member.partitionsPendingRevocation.get(topic)?.has(partition) === true;
}

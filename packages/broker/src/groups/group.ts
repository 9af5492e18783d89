// A classic consumer group's state machine, as Kafka's ClassicGroup: members, static
// (group.instance.id) mappings, members pending their first join or their sync, the generation,
// the selected protocol and the leader. Decisions that involve timers or the log live in the
// classic-group manager (classic-group-manager.ts); this class keeps the bookkeeping consistent
// and answers the checks that depend only on it (member, join capacity, offset commit, offset
// expiry), as Kafka's ClassicGroup does.
//
// States and the transitions Kafka allows:
//   Empty                -> PreparingRebalance (a member joins), Dead (deleted / expired)
//   PreparingRebalance   -> CompletingRebalance (join phase done), Empty (no member left), Dead
//   CompletingRebalance  -> Stable (leader's assignment stored), PreparingRebalance, Dead
//   Stable               -> PreparingRebalance, Dead
//
// Concurrency: event loop only; held in ClassicGroups, changed by the ClassicGroupManager.

import { ErrorCode } from '@sluice/protocol';
import { EMPTY_BYTES, GroupMember, type JoinCallback, type JoinResult, type JoinResultMember, type Protocol, type SyncResult } from './member.ts';
import { type GroupValue, RecordFormatError } from './records.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
};

/** SyncGroup v5: a protocol type/name given by the member must equal the group's. */
function isProtocolInconsistent(fromMember: string | null, fromGroup: string | null): boolean {
  return fromMember !== null && fromGroup !== null && fromMember !== fromGroup;
}

export class ClassicGroup {
  readonly groupId: string;
  private currentState: GroupState;
  private prevState: GroupState;
  /** When the group entered its current state (ms since the epoch); -1 when unknown. */
  stateTimestamp: number;
  generationId = 0;
  /** Set by the first member ever to join; null for a simple (offsets-only) group. */
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** The initial rebalance may be extended: a member joined since the last delay expired. */
  newMemberAdded = false;
  /** Members in join order (Map iteration order), which also decides leader succession. */
  private readonly membersById = new Map<string, GroupMember>();
  private readonly staticMembers = new Map<string, string>();
  private readonly pendingJoinMembers = new Set<string>();
  private readonly pendingSyncMembers = new Set<string>();
  private readonly supportedProtocols = new Map<string, number>();
  private awaitingJoinCount = 0;

  /**
   * A group as its last metadata record left it: Stable with its members, generation, leader,
   * protocol and assignments, or Empty (Kafka's load: members must heartbeat again or expire).
   */
  static fromRecordValue(groupId: string, value: GroupValue): ClassicGroup {
    const group = new ClassicGroup(groupId, value.members.length > 0 ? 'Stable' : 'Empty', value.currentStateTimestamp);
    group.generationId = value.generation;
    group.protocolType = value.protocolType === '' ? null : value.protocolType;
    group.protocolName = value.protocolName;
    group.leaderId = value.leader;
    if (value.members.length === 0) return group;
    const { protocolType, protocolName } = value;
    if (protocolType === null || protocolName === null) throw new RecordFormatError(`group ${groupId} has members but no protocol`);
    for (const m of value.members) {
      const member = new GroupMember({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        // Kafka's convention: -1 (unknown) means the session timeout.
        rebalanceTimeoutMs: m.rebalanceTimeoutMs === -1 ? m.sessionTimeoutMs : m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        protocolType,
        // Only the selected protocol's metadata is stored; a new rebalance collects the rest.
        protocols: [{ name: protocolName, metadata: m.subscription }],
        assignment: m.assignment,
      });
      group.add(member, null);
    }
    if (group.leaderId === null || !group.has(group.leaderId)) throw new RecordFormatError(`group ${groupId} has members but its leader is not one of them`);
    return group;
  }

  constructor(groupId: string, state: GroupState, nowMs: number) {
    this.groupId = groupId;
    this.currentState = state;
    this.prevState = state;
    this.stateTimestamp = nowMs;
  }

  get state(): GroupState {
    return this.currentState;
  }

  get previousState(): GroupState {
    return this.prevState;
  }

  is(state: GroupState): boolean {
    return this.currentState === state;
  }

  transitionTo(state: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[state].includes(this.currentState)) {
      throw new Error(`BUG: group ${this.groupId} cannot go from ${this.currentState} to ${state}`);
    }
    this.prevState = this.currentState;
    this.currentState = state;
    this.stateTimestamp = nowMs;
  }

  /** A rebalance can start from Empty, Stable or CompletingRebalance. */
  canRebalance(): boolean {
    return VALID_PREVIOUS_STATES.PreparingRebalance.includes(this.currentState);
  }

  // ---- members -------------------------------------------------------------------------------

  get members(): Iterable<GroupMember> {
    return this.membersById.values();
  }

  get size(): number {
    return this.membersById.size;
  }

  has(memberId: string): boolean {
    return this.membersById.has(memberId);
  }

  member(memberId: string): GroupMember {
    const member = this.membersById.get(memberId);
    if (member === undefined) throw new Error(`BUG: group ${this.groupId} has no member ${memberId}`);
    return member;
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  hasStaticMember(groupInstanceId: string): boolean {
    return this.staticMembers.has(groupInstanceId);
  }

  /** A static member known under a different member id: the caller is a stale instance. */
  isStaticMemberFenced(groupInstanceId: string, memberId: string): boolean {
    const existing = this.staticMembers.get(groupInstanceId);
    return existing !== undefined && existing !== memberId;
  }

  /**
   * Kafka's member validation for join, sync, heartbeat, leave and commit: a given instance id
   * must map to exactly this member id (else UNKNOWN_MEMBER_ID, or FENCED_INSTANCE_ID when it
   * maps to another), and the member must exist. Returns an error code, NONE when valid.
   */
  validateMember(memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const existing = this.staticMembers.get(groupInstanceId);
      if (existing === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (existing !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    return this.membersById.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** group.max.size: existing members are always let back in; new ones up to the limit. */
  acceptJoiningMember(memberId: string, maxGroupSize: number): boolean {
    switch (this.state) {
      case 'Empty':
      case 'Dead':
        return true;
      case 'PreparingRebalance':
        return (this.has(memberId) && this.member(memberId).isAwaitingJoin) || this.awaitingJoinMemberCount < maxGroupSize;
      case 'CompletingRebalance':
      case 'Stable':
        return this.has(memberId) || this.size < maxGroupSize;
    }
  }

  /** SyncGroup's checks, in Kafka's order; v5+ members also name the protocol type and name. */
  validateSyncGroup(memberId: string, groupInstanceId: string | null, generationId: number, protocolType: string | null, protocolName: string | null): number {
    if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = this.validateMember(memberId, groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (isProtocolInconsistent(protocolType, this.protocolType) || isProtocolInconsistent(protocolName, this.protocolName)) {
      return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    }
    return ErrorCode.NONE;
  }

  /** Kafka's ClassicGroup.validateOffsetCommit (non-transactional). */
  validateOffsetCommit(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // Generation -1 on an Empty group: the admin client or a consumer without group management.
    if (generationId < 0 && this.is('Empty')) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const invalid = this.validateMember(memberId, groupInstanceId);
      if (invalid !== ErrorCode.NONE) return invalid;
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    } else if (!this.is('Empty')) {
      // No member id and no generation: only accepted while the group has no members.
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // A member with the current generation that commits before its SyncGroup completed.
    if (this.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * Kafka's ClassicGroup.validateOffsetCommit for a transactional commit (KIP-447): generation -1
   * on an Empty group is the admin client or a consumer without group management; when any of
   * member id, generation or instance id is given the member must be valid and the generation
   * current; a commit with none of them (a pre-KIP-447 producer) is accepted, and unlike a plain
   * commit neither an unknown identity on a group with members nor CompletingRebalance refuses it.
   */
  validateTxnOffsetCommit(memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && this.is('Empty')) return ErrorCode.NONE;
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const invalid = this.validateMember(memberId, groupInstanceId);
      if (invalid !== ErrorCode.NONE) return invalid;
      if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    }
    return ErrorCode.NONE;
  }

  /**
   * Kafka's offsetExpirationCondition: which timestamp an offset's retention counts from, or null
   * when the group's offsets must not expire now (it has members).
   */
  offsetExpirationBase(): ((offset: { readonly commitTimestamp: number }) => number) | null {
    if (this.protocolType === null) return (offset) => offset.commitTimestamp;
    if (this.is('Empty')) {
      const emptySince = this.stateTimestamp;
      return (offset) => (emptySince >= 0 ? emptySince : offset.commitTimestamp);
    }
    return null;
  }

  /** Members as DescribeGroups shows them: metadata and assignments only while Stable, as Kafka does. */
  describedMembers() {
    const protocol = this.is('Stable') ? this.protocolName : null;
    return [...this.members].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      memberMetadata: protocol === null ? EMPTY_BYTES : m.metadata(protocol),
      memberAssignment: protocol === null ? EMPTY_BYTES : m.assignment,
    }));
  }

  add(member: GroupMember, onJoin: JoinCallback | null): void {
    if (member.groupInstanceId !== null) {
      if (this.staticMembers.has(member.groupInstanceId)) {
        throw new Error(`BUG: static member ${member.groupInstanceId} is already in group ${this.groupId}`);
      }
      this.staticMembers.set(member.groupInstanceId, member.memberId);
    }
    if (this.membersById.size === 0) this.protocolType = member.protocolType;
    if (this.protocolType !== member.protocolType) throw new Error(`BUG: member protocol type differs from group ${this.groupId}'s`);
    if (
      !this.supportsProtocols(
        member.protocolType,
        member.protocols.map((p) => p.name),
      )
    ) {
      throw new Error(`BUG: group ${this.groupId} supports none of member ${member.memberId}'s protocols`);
    }
    this.leaderId ??= member.memberId;
    this.membersById.set(member.memberId, member);
    this.countProtocols(member, 1);
    member.awaitingJoin = onJoin;
    if (member.isAwaitingJoin) this.awaitingJoinCount++;
    this.pendingJoinMembers.delete(member.memberId);
  }

  /**
   * Removes a member (or a pending member id). The leader passes to the first remaining member.
   * The caller answers the member's parked requests first (see ClassicGroupManager).
   */
  remove(memberId: string): void {
    const member = this.membersById.get(memberId);
    if (member !== undefined) {
      this.membersById.delete(memberId);
      this.countProtocols(member, -1);
      if (member.isAwaitingJoin) this.awaitingJoinCount--;
      if (member.groupInstanceId !== null) this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.isLeader(memberId)) {
      const next = this.membersById.keys().next();
      this.leaderId = next.done === true ? null : next.value;
    }
    this.pendingJoinMembers.delete(memberId);
    this.pendingSyncMembers.delete(memberId);
  }

  /** New protocols and timeouts for a rejoining member; `onJoin` parks its JoinGroup (or clears it). */
  updateMember(member: GroupMember, protocols: readonly Protocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number, onJoin: JoinCallback | null): void {
    this.countProtocols(member, -1);
    member.protocols = protocols;
    this.countProtocols(member, 1);
    member.rebalanceTimeoutMs = rebalanceTimeoutMs;
    member.sessionTimeoutMs = sessionTimeoutMs;
    if (onJoin !== null && !member.isAwaitingJoin) this.awaitingJoinCount++;
    else if (onJoin === null && member.isAwaitingJoin) this.awaitingJoinCount--;
    member.awaitingJoin = onJoin;
  }

  /**
   * A static member rejoined with an unknown member id: the new id takes over the old member's
   * place, assignment and leadership. The old id's parked requests are answered
   * FENCED_INSTANCE_ID (a duplicate instance must shut down).
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const old = this.membersById.get(oldMemberId);
    if (old === undefined) throw new Error(`BUG: cannot replace missing member ${oldMemberId}`);
    this.completeJoin(old, {
      errorCode: ErrorCode.FENCED_INSTANCE_ID,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      skipAssignment: false,
      memberId: oldMemberId,
      members: [],
    });
    this.completeSync(old, { errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY_BYTES });
    this.membersById.delete(oldMemberId);
    const replacement = new GroupMember({
      memberId: newMemberId,
      groupInstanceId: old.groupInstanceId,
      clientId: old.clientId,
      clientHost: old.clientHost,
      rebalanceTimeoutMs: old.rebalanceTimeoutMs,
      sessionTimeoutMs: old.sessionTimeoutMs,
      protocolType: old.protocolType,
      protocols: old.protocols,
      assignment: old.assignment,
    });
    // Same protocols as the member it replaces: the protocol counts stay as they are.
    this.membersById.set(newMemberId, replacement);
    if (this.isLeader(oldMemberId)) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId);
    return replacement;
  }

  // ---- join phase ----------------------------------------------------------------------------

  isPendingMember(memberId: string): boolean {
    return this.pendingJoinMembers.has(memberId);
  }

  /** A member id handed out with MEMBER_ID_REQUIRED, expected to join with it. */
  addPendingMember(memberId: string): void {
    if (this.membersById.has(memberId)) throw new Error(`BUG: pending member ${memberId} is already a member`);
    this.pendingJoinMembers.add(memberId);
  }

  get pendingMemberCount(): number {
    return this.pendingJoinMembers.size;
  }

  get awaitingJoinMemberCount(): number {
    return this.awaitingJoinCount;
  }

  hasAllMembersJoined(): boolean {
    return this.membersById.size === this.awaitingJoinCount && this.pendingJoinMembers.size === 0;
  }

  notYetRejoinedMembers(): GroupMember[] {
    return [...this.membersById.values()].filter((m) => !m.isAwaitingJoin);
  }

  /** Answers a parked JoinGroup; false when the member had none parked. */
  completeJoin(member: GroupMember, result: JoinResult): boolean {
    const callback = member.awaitingJoin;
    if (callback === null) return false;
    member.awaitingJoin = null;
    if (this.membersById.get(member.memberId) === member) this.awaitingJoinCount--;
    callback(result);
    return true;
  }

  /** Answers a parked SyncGroup; false when the member had none parked. */
  completeSync(member: GroupMember, result: SyncResult): boolean {
    const callback = member.awaitingSync;
    if (callback === null) return false;
    member.awaitingSync = null;
    callback(result);
    return true;
  }

  /**
   * Keeps the current leader when it rejoined, else elects the first member that did. False
   * when there is no leader (empty group) or no member rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false;
    if (this.member(this.leaderId).isAwaitingJoin) return true;
    for (const member of this.membersById.values()) {
      if (member.isAwaitingJoin) {
        this.leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }

  /** The largest rebalance timeout among the members (0 with no members). */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const member of this.membersById.values()) max = Math.max(max, member.rebalanceTimeoutMs);
    return max;
  }

  /**
   * Whether a joining member's protocols fit: an empty group takes any non-empty protocol type
   * with at least one protocol; otherwise the type must match and at least one of the protocols
   * must be supported by every current member.
   */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType !== '' && protocolNames.length > 0;
    return this.protocolType === protocolType && protocolNames.some((name) => (this.supportedProtocols.get(name) ?? 0) === this.membersById.size);
  }

  /**
   * Kafka's protocol selection: the candidates are the protocols every member supports; each
   * member votes for its most preferred candidate and the most votes win. Kafka leaves ties to
   * hash order; here the tie goes to the protocol whose first vote came earliest in member order.
   */
  selectProtocol(): string {
    if (this.membersById.size === 0) throw new Error(`BUG: selecting a protocol for empty group ${this.groupId}`);
    const candidates = new Set<string>();
    for (const [name, count] of this.supportedProtocols) if (count === this.membersById.size) candidates.add(name);
    const votes = new Map<string, number>();
    for (const member of this.membersById.values()) {
      const choice = member.vote(candidates);
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    let best: string | null = null;
    let bestVotes = 0;
    for (const [name, count] of votes) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best!;
  }

  /** Next generation: CompletingRebalance with a selected protocol, or Empty without members. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.membersById.size > 0) {
      this.protocolName = this.selectProtocol();
      this.transitionTo('CompletingRebalance', nowMs);
    } else {
      this.protocolName = null;
      this.transitionTo('Empty', nowMs);
    }
    this.pendingSyncMembers.clear();
  }

  /** What the leader receives in its JoinGroup answer: every member's metadata for the protocol. */
  currentMemberMetadata(): JoinResultMember[] {
    const protocol = this.protocolName;
    if (protocol === null) throw new Error(`BUG: group ${this.groupId} has no selected protocol`);
    return [...this.membersById.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) }));
  }

  /** The group metadata record's value: this generation with the given assignment per member. */
  toRecordValue(assignment: ReadonlyMap<string, Uint8Array>): GroupValue {
    const protocol = this.protocolName;
    return {
      protocolType: this.protocolType,
      generation: this.generationId,
      protocolName: protocol,
      leader: this.leaderId,
      currentStateTimestamp: this.stateTimestamp,
      members: [...this.membersById.values()].map((m) => {
        if (protocol === null) throw new Error(`BUG: group ${this.groupId} has members but no protocol`);
        return {
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          sessionTimeoutMs: m.sessionTimeoutMs,
          subscription: m.metadata(protocol),
          assignment: assignment.get(m.memberId) ?? EMPTY_BYTES,
        };
      }),
    };
  }

  // ---- sync phase ----------------------------------------------------------------------------

  addPendingSyncMember(memberId: string): void {
    if (!this.membersById.has(memberId)) throw new Error(`BUG: pending sync for non-member ${memberId}`);
    this.pendingSyncMembers.add(memberId);
  }

  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId);
  }

  hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0;
  }

  pendingSyncMemberIds(): string[] {
    return [...this.pendingSyncMembers];
  }

  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear();
  }

  private countProtocols(member: GroupMember, delta: 1 | -1): void {
    for (const p of member.protocols) {
      const count = (this.supportedProtocols.get(p.name) ?? 0) + delta;
      if (count < 0) throw new Error(`BUG: protocol count below zero for ${p.name}`);
      if (count === 0) this.supportedProtocols.delete(p.name);
      else this.supportedProtocols.set(p.name, count);
    }
  }
}

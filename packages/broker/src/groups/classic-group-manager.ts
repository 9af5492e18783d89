// The classic-group manager: the classic rebalance protocol (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup) and the classic groups' metadata, following Kafka's GroupMetadataManager: the same
// states, the same checks in the same order, the same error codes. The GroupCoordinator
// (coordinator.ts) routes requests here by group type and checks that it is active first;
// committed offsets belong to the OffsetManager (offset-manager.ts), which asks this manager to
// validate commits. The groups themselves are held in ClassicGroups (classic-groups.ts).
//
// How a rebalance runs:
//   JoinGroup parks each member's request. The join phase completes when every known member has
//   rejoined (and no member id handed out with MEMBER_ID_REQUIRED is still pending), or when the
//   rebalance timeout (the largest of the members') expires; members that did not rejoin are
//   dropped (static ones are kept). The first rebalance of an Empty group always waits
//   `group.initial.rebalance.delay.ms`, extended by that much while members keep arriving, up to
//   the rebalance timeout (Kafka's InitialDelayedJoin). Completing the join phase bumps the
//   generation, selects the protocol and answers every parked JoinGroup (only the leader gets
//   the members' metadata); the group is then CompletingRebalance.
//   SyncGroup parks each member's request until the leader's arrives; the leader's assignment is
//   written to the log, then every member gets its own bytes and the group is Stable. Members
//   that do not send SyncGroup within the rebalance timeout are dropped and a new rebalance
//   starts.
//   Sessions: every member has a session timer, pushed forward by heartbeats, commits and the
//   end of each phase; a member whose timer fires while not parked in JoinGroup/SyncGroup is
//   removed and the group rebalances.
//
// Durability: every completed generation is appended to the GroupLog (records.ts); the
// coordinator's load() replays it (classic-groups.ts). In-memory state changes only after the
// append returned, and answers that depend on a write wait for it to be durable.
//
// Two deliberate differences from Kafka, both forced by answering requests in order on a
// connection: a JoinGroup or SyncGroup superseded by a newer one from the same member is
// answered REBALANCE_IN_PROGRESS (Kafka drops it unanswered), and a member removed while its
// SyncGroup is parked gets UNKNOWN_MEMBER_ID.
//
// Waiting: a parked JoinGroup or SyncGroup is a callback on its member, answered by the state
// machine's own transitions (every member rejoined, the leader's assignment stored) or by a keyed
// timer, as Kafka's new group coordinator does with its timer. It is not moved onto the delayed
// operations (delayed/): there is no external event to watch — each transition already knows which
// parked members to answer — and the initial-rebalance delay re-arms itself while members arrive.
//
// Concurrency: event loop only. Timers come from an injected Clock (tests use ManualClock).

import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@sluice/protocol';
import { type Clock, KeyedTimers } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { GroupCoordinatorConfig } from './config.ts';
import type { ClassicGroups } from './classic-groups.ts';
import type { ClassicGroup } from './group.ts';
import { type AppendGroupRecords, type GroupLogAppend, type GroupLogRecord, groupLogErrorCode, groupWriteError } from './group-log.ts';
import { EMPTY_BYTES, GroupMember, type JoinCallback, type JoinResult, joinError, type SyncCallback, type SyncResult, syncError } from './member.ts';
import { encodeGroupKey, encodeGroupValue } from './records.ts';
import type { HeartbeatInput, JoinGroupInput, LeaveResult, LeavingMember, OffsetCommitInput, SyncGroupInput, TxnOffsetCommitInput } from './types.ts';

export interface ClassicGroupManagerOptions {
  readonly config: GroupCoordinatorConfig;
  /** Appends a group's records to its offsets-log partition. */
  readonly append: AppendGroupRecords;
  readonly logger: Logger;
  readonly clock: Clock;
  /** The groups this manager runs (the coordinator's). */
  readonly groups: ClassicGroups;
}

const UNKNOWN_MEMBER_ID = '';

export class ClassicGroupManager {
  private readonly config: GroupCoordinatorConfig;
  private readonly append: AppendGroupRecords;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly timers: KeyedTimers;
  private readonly groups: ClassicGroups;

  constructor(options: ClassicGroupManagerOptions) {
    this.config = options.config;
    this.append = options.append;
    this.logger = options.logger;
    this.clock = options.clock;
    this.timers = new KeyedTimers(this.clock);
    this.groups = options.groups;
  }

  // ---- lifecycle -----------------------------------------------------------------------------

  /**
   * After replay: starts the members' session timers. Groups with members come back Stable at
   * their stored generation, so consumers that reconnect carry on; members that do not come back
   * expire.
   */
  startSessions(only: (groupId: string) => boolean = () => true): void {
    for (const group of this.groups.values()) {
      if (!only(group.groupId)) continue;
      for (const member of group.members) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  /** Stops every timer and answers parked JoinGroup/SyncGroup requests NOT_COORDINATOR. */
  close(): void {
    this.timers.cancelAll();
    for (const group of this.groups.values()) {
      for (const member of group.members) {
        group.completeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
        group.completeSync(member, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }

  // ---- JoinGroup -----------------------------------------------------------------------------

  joinGroup(input: JoinGroupInput): Promise<JoinResult> {
    return new Promise((resolve) => this.join(input, resolve));
  }

  private join(input: JoinGroupInput, respond: JoinCallback): void {
    if (input.groupId === '') return respond(joinError(input.memberId, ErrorCode.INVALID_GROUP_ID));
    if (input.sessionTimeoutMs < this.config.minSessionTimeoutMs || input.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return respond(joinError(input.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = input.memberId === UNKNOWN_MEMBER_ID;
    let group = this.groups.get(input.groupId);
    if (group === undefined) {
      // Only a member without an id may create a group; a known id for a missing group is stale.
      if (!isUnknownMember) return respond(joinError(input.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = this.groups.create(input.groupId, this.clock.now());
    }
    if (!group.acceptJoiningMember(input.memberId, this.config.maxGroupSize)) {
      if (group.has(input.memberId)) this.removeMember(group, group.member(input.memberId));
      return respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    if (isUnknownMember) this.joinNewMember(group, input, respond);
    else this.joinExistingMember(group, input, respond);
  }

  private joinNewMember(group: ClassicGroup, input: JoinGroupInput, respond: JoinCallback): void {
    if (group.is('Dead')) return respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (
      !group.supportsProtocols(
        input.protocolType,
        input.protocols.map((p) => p.name),
      )
    ) {
      return respond(joinError(UNKNOWN_MEMBER_ID, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const newMemberId = `${input.groupInstanceId ?? input.clientId}-${randomUUID()}`;
    if (input.groupInstanceId !== null) {
      const existing = group.staticMemberId(input.groupInstanceId);
      if (existing !== undefined) {
        this.logger.info(
          { group: group.groupId, groupInstanceId: input.groupInstanceId, oldMemberId: existing, memberId: newMemberId, state: group.state },
          'static member rejoins with a new member id',
        );
        return this.updateStaticMemberThenRebalanceOrCompleteJoin(group, input, existing, newMemberId, respond);
      }
      return this.addMemberThenRebalanceOrCompleteJoin(group, input, newMemberId, respond);
    }
    if (input.requireKnownMemberId) {
      // Two-phase join (v4+): hand out the id and expect the member back with it within its
      // session timeout; until then the join phase waits for it.
      group.addPendingMember(newMemberId);
      this.timers.schedule(heartbeatKey(group.groupId, newMemberId), input.sessionTimeoutMs, () => this.expireHeartbeat(group.groupId, newMemberId));
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberThenRebalanceOrCompleteJoin(group, input, newMemberId, respond);
  }

  private joinExistingMember(group: ClassicGroup, input: JoinGroupInput, respond: JoinCallback): void {
    const memberId = input.memberId;
    if (group.is('Dead')) return respond(joinError(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (
      !group.supportsProtocols(
        input.protocolType,
        input.protocols.map((p) => p.name),
      )
    ) {
      return respond(joinError(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    if (group.isPendingMember(memberId)) {
      // Pending ids are only handed to dynamic members; Kafka fails such a request with an
      // internal error, which clients see as UNKNOWN_SERVER_ERROR.
      if (input.groupInstanceId !== null) return respond(joinError(memberId, ErrorCode.UNKNOWN_SERVER_ERROR));
      return this.addMemberThenRebalanceOrCompleteJoin(group, input, memberId, respond);
    }
    const invalid = group.validateMember(memberId, input.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return respond(joinError(memberId, invalid));
    const member = group.member(memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberThenRebalanceOrCompleteJoin(group, member, input, respond, 'member joins during PreparingRebalance');
      case 'CompletingRebalance':
        if (member.matches(input.protocols)) {
          // It lost the JoinGroup answer: give it the current generation again.
          return respond(this.joinSuccess(group, memberId, group.isLeader(memberId)));
        }
        return this.updateMemberThenRebalanceOrCompleteJoin(group, member, input, respond, 'member metadata changed during CompletingRebalance');
      case 'Stable':
        if (group.isLeader(memberId)) {
          // The leader rejoining forces a rebalance: it may have seen metadata changes (new
          // partitions) that need a new assignment without any member metadata changing.
          return this.updateMemberThenRebalanceOrCompleteJoin(group, member, input, respond, 'leader rejoins during Stable');
        }
        if (!member.matches(input.protocols)) {
          return this.updateMemberThenRebalanceOrCompleteJoin(group, member, input, respond, 'member metadata changed during Stable');
        }
        return respond(this.joinSuccess(group, memberId, false));
      case 'Empty':
        this.logger.warn({ group: group.groupId, memberId }, 'member rejoins a group in unexpected state Empty');
        return respond(joinError(memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private joinSuccess(group: ClassicGroup, memberId: string, withMembers: boolean, leader = group.leaderId ?? '', skipAssignment = false): JoinResult {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader,
      skipAssignment,
      memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    };
  }

  private updateMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    member: GroupMember,
    input: JoinGroupInput,
    respond: JoinCallback,
    reason: string,
  ): void {
    this.supersedeJoin(group, member);
    group.updateMember(member, input.protocols, input.rebalanceTimeoutMs, input.sessionTimeoutMs, respond);
    this.maybePrepareRebalanceOrCompleteJoin(group, `${reason} (member ${member.memberId}; client reason: ${input.reason ?? 'not provided'})`);
  }

  private addMemberThenRebalanceOrCompleteJoin(group: ClassicGroup, input: JoinGroupInput, memberId: string, respond: JoinCallback): void {
    const member = new GroupMember({
      memberId,
      groupInstanceId: input.groupInstanceId,
      clientId: input.clientId,
      clientHost: input.clientHost,
      rebalanceTimeoutMs: input.rebalanceTimeoutMs,
      sessionTimeoutMs: input.sessionTimeoutMs,
      protocolType: input.protocolType,
      protocols: input.protocols,
    });
    member.isNew = true;
    // A new member during the initial rebalance extends its delay.
    if (group.is('PreparingRebalance') && group.previousState === 'Empty') group.newMemberAdded = true;
    group.add(member, respond);
    // A parked JoinGroup cannot heartbeat and a muted socket hides a disconnect, so a new
    // member gets a bounded wait; if it is still there it will retry.
    this.scheduleHeartbeat(group, member, this.config.newMemberJoinTimeoutMs);
    this.maybePrepareRebalanceOrCompleteJoin(
      group,
      `new member ${memberId} (instance ${input.groupInstanceId ?? 'none'}; client reason: ${input.reason ?? 'not provided'})`,
    );
  }

  private updateStaticMemberThenRebalanceOrCompleteJoin(
    group: ClassicGroup,
    input: JoinGroupInput,
    oldMemberId: string,
    newMemberId: string,
    respond: JoinCallback,
  ): void {
    const instanceId = input.groupInstanceId!;
    const currentLeader = group.leaderId ?? '';
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    this.timers.cancel(heartbeatKey(group.groupId, oldMemberId));
    this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    const previous = { protocols: member.protocols, rebalanceTimeoutMs: member.rebalanceTimeoutMs, sessionTimeoutMs: member.sessionTimeoutMs };
    group.updateMember(member, input.protocols, input.rebalanceTimeoutMs, input.sessionTimeoutMs, respond);
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          return this.maybePrepareRebalanceOrCompleteJoin(group, `static member ${newMemberId} (instance ${instanceId}) rejoined with a change of protocol`);
        }
        // The selected protocol stays: keep the assignment, persist the new member id, and
        // answer without a rebalance.
        const generation = group.generationId;
        const assignment = new Map([...group.members].map((m) => [m.memberId, m.assignment]));
        let durable: Promise<void>;
        try {
          durable = this.append(group.groupId, [this.groupMetadataRecord(group, assignment)]).durable;
        } catch (err) {
          durable = Promise.reject(err);
        }
        durable.then(
          () => {
            if (!group.has(newMemberId) || group.member(newMemberId) !== member) return;
            const isLeader = group.isLeader(newMemberId);
            if (input.supportSkippingAssignment && group.generationId === generation) {
              // v9+: the leader learns it leads but need not assign again.
              group.completeJoin(member, this.joinSuccess(group, newMemberId, isLeader, group.leaderId ?? '', isLeader));
            } else {
              // The old leader id is returned so that a rejoining leader does not believe it
              // must assign: a Stable group would not distribute a new assignment.
              group.completeJoin(member, this.joinSuccess(group, newMemberId, false, currentLeader));
            }
          },
          (err) => {
            const errorCode = groupWriteError(groupLogErrorCode(err));
            this.logger.warn({ group: group.groupId, memberId: newMemberId, errorCode }, 'could not persist static member id; reverting to the old id');
            if (!group.has(newMemberId) || group.member(newMemberId) !== member) return;
            group.completeJoin(member, { ...this.joinSuccess(group, UNKNOWN_MEMBER_ID, false, currentLeader), errorCode });
            group.updateMember(member, previous.protocols, previous.rebalanceTimeoutMs, previous.sessionTimeoutMs, null);
            const restored = group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            this.timers.cancel(heartbeatKey(group.groupId, newMemberId));
            this.scheduleHeartbeat(group, restored, restored.sessionTimeoutMs);
          },
        );
        return;
      }
      case 'CompletingRebalance':
        // The leader may already have assigned to the old id; only a new rebalance is safe.
        return this.prepareRebalance(group, `static member ${newMemberId} (instance ${instanceId}) rejoined during CompletingRebalance`);
      case 'PreparingRebalance':
        return this.maybeCompleteJoinPhase(group);
      case 'Empty':
      case 'Dead':
        throw new Error(`BUG: group ${group.groupId} is ${group.state} while it has static member ${instanceId}`);
    }
  }

  /** A member's older parked JoinGroup, replaced by a new one, still needs an answer. */
  private supersedeJoin(group: ClassicGroup, member: GroupMember): void {
    if (member.isAwaitingJoin) group.completeJoin(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
  }

  private maybePrepareRebalanceOrCompleteJoin(group: ClassicGroup, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason);
    else this.maybeCompleteJoinPhase(group);
  }

  /** Completes the join phase when everyone is in, except during the initial (delayed) rebalance. */
  private maybeCompleteJoinPhase(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance')) return;
    if (group.previousState === 'Empty') return;
    if (!group.hasAllMembersJoined()) return;
    this.completeJoinPhase(group);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    // Members parked in SyncGroup must rejoin.
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentWithError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    this.removeSyncExpiration(group);
    const isInitialRebalance = group.is('Empty');
    if (isInitialRebalance) {
      const delayMs = this.config.initialRebalanceDelayMs;
      const remainingMs = Math.max(group.rebalanceTimeoutMs - delayMs, 0);
      this.timers.schedule(joinKey(group.groupId), delayMs, () => this.tryCompleteInitialRebalanceElseSchedule(group.groupId, delayMs, remainingMs));
    }
    group.transitionTo('PreparingRebalance', this.clock.now());
    this.logger.info({ group: group.groupId, generation: group.generationId, reason }, 'preparing to rebalance group');
    if (!isInitialRebalance) this.maybeCompleteJoinElseSchedule(group);
  }

  private maybeCompleteJoinElseSchedule(group: ClassicGroup): void {
    if (group.hasAllMembersJoined()) return this.completeJoinPhase(group);
    this.timers.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs, () => this.completeJoinPhaseOf(group.groupId));
  }

  private tryCompleteInitialRebalanceElseSchedule(groupId: string, delayMs: number, remainingMs: number): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    if (group.newMemberAdded && remainingMs !== 0) {
      group.newMemberAdded = false;
      const nextDelayMs = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
      const nextRemainingMs = Math.max(remainingMs - delayMs, 0);
      this.timers.schedule(joinKey(groupId), nextDelayMs, () => this.tryCompleteInitialRebalanceElseSchedule(groupId, nextDelayMs, nextRemainingMs));
      return;
    }
    this.completeJoinPhase(group);
  }

  private completeJoinPhaseOf(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group !== undefined) this.completeJoinPhase(group);
  }

  /**
   * Ends the join phase: drops dynamic members that did not rejoin, keeps or elects a leader that
   * did, and starts the next generation (or waits another rebalance timeout when nobody rejoined).
   */
  private completeJoinPhase(group: ClassicGroup): void {
    this.timers.cancel(joinKey(group.groupId));
    if (!group.is('PreparingRebalance')) return;
    const dropped: string[] = [];
    for (const member of group.notYetRejoinedMembers()) {
      if (member.isStatic) continue;
      this.removeMember(group, member);
      dropped.push(member.memberId);
    }
    if (dropped.length > 0) this.logger.info({ group: group.groupId, members: dropped }, 'removed members that did not rejoin');
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Only static members that did not rejoin are left: wait for them or their session expiry.
      this.logger.error({ group: group.groupId }, 'could not complete rebalance because no members rejoined');
      this.timers.schedule(joinKey(group.groupId), group.rebalanceTimeoutMs, () => this.completeJoinPhaseOf(group.groupId));
      return;
    }
    group.initNextGeneration(this.clock.now());
    if (group.is('Empty')) {
      this.logger.info({ group: group.groupId, generation: group.generationId }, 'group is now empty');
      this.appendBestEffort(group, new Map());
      return;
    }
    this.logger.info({ group: group.groupId, generation: group.generationId, members: group.size, protocol: group.protocolName }, 'stabilized group');
    for (const member of group.members) {
      group.completeJoin(member, this.joinSuccess(group, member.memberId, group.isLeader(member.memberId)));
      this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
      member.isNew = false;
      group.addPendingSyncMember(member.memberId);
    }
    this.schedulePendingSync(group);
  }

  private schedulePendingSync(group: ClassicGroup): void {
    const generation = group.generationId;
    this.timers.schedule(syncKey(group.groupId), group.rebalanceTimeoutMs, () => this.expirePendingSync(group.groupId, generation));
  }

  private removeSyncExpiration(group: ClassicGroup): void {
    group.clearPendingSyncMembers();
    this.timers.cancel(syncKey(group.groupId));
  }

  /** Members that never sent SyncGroup within the rebalance timeout are dropped; rebalance. */
  private expirePendingSync(groupId: string, generation: number): void {
    const group = this.groups.get(groupId);
    if (group === undefined || group.generationId !== generation) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.hasReceivedSyncFromAllMembers()) return;
    const pending = group.pendingSyncMemberIds();
    for (const memberId of pending) {
      if (group.has(memberId)) this.removeMember(group, group.member(memberId));
      else group.remove(memberId);
    }
    this.logger.info({ group: groupId, members: pending }, 'removed members that did not send SyncGroup');
    this.prepareRebalance(group, `members ${pending.join(', ')} did not sync in time`);
  }

  // ---- SyncGroup -----------------------------------------------------------------------------

  syncGroup(input: SyncGroupInput): Promise<SyncResult> {
    return new Promise((resolve) => this.sync(input, resolve));
  }

  private sync(input: SyncGroupInput, respond: SyncCallback): void {
    if (input.groupId === '') return respond(syncError(ErrorCode.INVALID_GROUP_ID));
    const group = this.groups.get(input.groupId);
    if (group === undefined || group.is('Empty')) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    const invalid = group.validateSyncGroup(input.memberId, input.groupInstanceId, input.generationId, input.protocolType, input.protocolName);
    if (invalid !== ErrorCode.NONE) return respond(syncError(invalid));
    const member = group.member(input.memberId);
    switch (group.state) {
      case 'PreparingRebalance':
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        if (member.isAwaitingSync) group.completeSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.awaitingSync = respond;
        this.removePendingSyncMember(group, member.memberId);
        if (group.isLeader(member.memberId)) this.storeLeaderAssignment(group, input);
        return;
      }
      case 'Stable':
        this.removePendingSyncMember(group, member.memberId);
        return respond({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      case 'Empty':
      case 'Dead':
        throw new Error(`BUG: SyncGroup reached group ${group.groupId} in state ${group.state}`);
    }
  }

  private removePendingSyncMember(group: ClassicGroup, memberId: string): void {
    group.removePendingSyncMember(memberId);
    if (group.hasReceivedSyncFromAllMembers()) this.timers.cancel(syncKey(group.groupId));
  }

  /** The leader's assignment: written to the log, then handed to every member; Stable. */
  private storeLeaderAssignment(group: ClassicGroup, input: SyncGroupInput): void {
    const assignment = new Map<string, Uint8Array>();
    // Copies: the request's bytes are views into a socket buffer.
    for (const a of input.assignments) assignment.set(a.memberId, a.assignment.slice());
    const missing = [...group.members].filter((m) => !assignment.has(m.memberId)).map((m) => m.memberId);
    for (const memberId of missing) assignment.set(memberId, EMPTY_BYTES);
    if (missing.length > 0)
      this.logger.warn(
        { group: group.groupId, generation: group.generationId, members: missing },
        'leader sent no assignment for some members; they get an empty one',
      );
    const generation = group.generationId;
    const stillWaiting = () => group.is('CompletingRebalance') && group.generationId === generation;
    const fail = (err: unknown) => {
      if (!stillWaiting()) return;
      const errorCode = groupWriteError(groupLogErrorCode(err));
      this.logger.warn({ group: group.groupId, generation, errorCode }, 'could not store the group assignment');
      this.resetAndPropagateAssignmentWithError(group, errorCode);
      this.maybePrepareRebalanceOrCompleteJoin(group, `error ${errorCode} storing the assignment`);
    };
    let write: GroupLogAppend;
    try {
      write = this.append(group.groupId, [this.groupMetadataRecord(group, assignment)]);
    } catch (err) {
      return fail(err);
    }
    write.durable.then(() => {
      if (!stillWaiting()) return;
      this.setAndPropagateAssignment(group, assignment);
      group.transitionTo('Stable', this.clock.now());
      this.logger.info({ group: group.groupId, generation }, 'group assignment stored; group is Stable');
    }, fail);
  }

  private setAndPropagateAssignment(group: ClassicGroup, assignment: ReadonlyMap<string, Uint8Array>): void {
    if (!group.is('CompletingRebalance')) throw new Error(`BUG: propagating an assignment in state ${group.state}`);
    for (const member of group.members) member.assignment = assignment.get(member.memberId) ?? EMPTY_BYTES;
    this.propagateAssignment(group, ErrorCode.NONE);
  }

  private resetAndPropagateAssignmentWithError(group: ClassicGroup, errorCode: number): void {
    if (!group.is('CompletingRebalance')) throw new Error(`BUG: resetting assignments in state ${group.state}`);
    for (const member of group.members) member.assignment = EMPTY_BYTES;
    this.propagateAssignment(group, errorCode);
  }

  private propagateAssignment(group: ClassicGroup, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE;
    for (const member of group.members) {
      const answered = group.completeSync(member, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      });
      // The session restarts once the member has its answer: while parked it could not heartbeat.
      if (answered) this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
  }

  // ---- Heartbeat -----------------------------------------------------------------------------

  heartbeat(input: HeartbeatInput): number {
    if (input.groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(input.groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const invalid = group.validateMember(input.memberId, input.groupInstanceId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if (input.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    const member = group.member(input.memberId);
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        // Members may heartbeat between their JoinGroup answer and SyncGroup: a normal heartbeat.
        this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
      case 'Dead':
        throw new Error('BUG: unreachable');
    }
  }

  private scheduleHeartbeat(group: ClassicGroup, member: GroupMember, timeoutMs: number): void {
    const groupId = group.groupId;
    const memberId = member.memberId;
    this.timers.schedule(heartbeatKey(groupId, memberId), timeoutMs, () => this.expireHeartbeat(groupId, memberId));
  }

  /** A session timer fired: a pending id is forgotten, a silent member is removed. */
  private expireHeartbeat(groupId: string, memberId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined || group.is('Dead')) return;
    if (group.isPendingMember(memberId)) {
      this.logger.info({ group: groupId, memberId }, 'pending member expired before joining');
      group.remove(memberId);
      if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoinPhase(group);
      return;
    }
    if (!group.has(memberId)) return;
    const member = group.member(memberId);
    if (member.hasSatisfiedHeartbeat()) return;
    this.logger.info({ group: groupId, memberId }, 'member session expired; removing it from the group');
    this.removeMemberAndUpdateGroup(group, member, `member ${memberId} session expired`);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    this.removeMember(group, member);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group, reason);
    else if (group.is('PreparingRebalance') && group.hasAllMembersJoined()) this.completeJoinPhase(group);
  }

  /**
   * Removes a member after answering its parked requests: a parked JoinGroup gets
   * UNKNOWN_MEMBER_ID (it retries as a new member if still alive), as does a parked SyncGroup.
   */
  private removeMember(group: ClassicGroup, member: GroupMember): void {
    this.timers.cancel(heartbeatKey(group.groupId, member.memberId));
    group.completeJoin(member, joinError(UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID));
    group.completeSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    group.remove(member.memberId);
  }

  // ---- LeaveGroup ----------------------------------------------------------------------------

  leaveGroup(groupId: string, leaving: readonly LeavingMember[]): LeaveResult {
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.groups.get(groupId);
    if (group === undefined) {
      return {
        errorCode: ErrorCode.NONE,
        members: leaving.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })),
      };
    }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const members: LeaveResult['members'] = [];
    const removed: string[] = [];
    for (const m of leaving) {
      const answer = (errorCode: number) => members.push({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode });
      if (m.memberId === UNKNOWN_MEMBER_ID) {
        // Administrative removal by instance id (kafka-consumer-groups --delete with instances).
        const staticId = m.groupInstanceId === null ? undefined : group.staticMemberId(m.groupInstanceId);
        if (staticId === undefined) {
          answer(ErrorCode.UNKNOWN_MEMBER_ID);
          continue;
        }
        this.removeMember(group, group.member(staticId));
        removed.push(staticId);
        answer(ErrorCode.NONE);
      } else if (group.isPendingMember(m.memberId)) {
        group.remove(m.memberId);
        this.timers.cancel(heartbeatKey(groupId, m.memberId));
        removed.push(m.memberId);
        answer(ErrorCode.NONE);
      } else {
        const invalid = group.validateMember(m.memberId, m.groupInstanceId);
        if (invalid !== ErrorCode.NONE) {
          answer(invalid);
          continue;
        }
        this.removeMember(group, group.member(m.memberId));
        removed.push(m.memberId);
        answer(ErrorCode.NONE);
      }
    }
    if (removed.length > 0) {
      this.logger.info({ group: groupId, members: removed, reasons: leaving.map((m) => m.reason).filter((r) => r !== null) }, 'members left the group');
      const reason = `members ${removed.join(', ')} left the group`;
      if (group.is('Stable') || group.is('CompletingRebalance')) this.maybePrepareRebalanceOrCompleteJoin(group, reason);
      else if (group.is('PreparingRebalance')) this.maybeCompleteJoinPhase(group);
    }
    return { errorCode: ErrorCode.NONE, members };
  }

  // ---- what the offset manager and the coordinator ask ---------------------------------------

  /**
   * Whether a commit may be stored: the group is found, or for generation -1 made as a "simple"
   * group (the admin client or a consumer managing its own partitions: no members, no protocol
   * type); then Kafka's ClassicGroup.validateOffsetCommit. A commit from a member keeps its
   * session alive.
   */
  validateOffsetCommit(input: OffsetCommitInput): number {
    let group = this.groups.get(input.groupId);
    if (group === undefined) {
      if (input.generationId >= 0) {
        // A generation for a group that does not exist: a stale member. v9 says so directly.
        return input.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION;
      }
      group = this.groups.create(input.groupId, this.clock.now());
    }
    const invalid = group.validateOffsetCommit(input.memberId, input.groupInstanceId, input.generationId);
    if (invalid !== ErrorCode.NONE) return invalid;
    if ((group.is('Stable') || group.is('PreparingRebalance')) && group.has(input.memberId)) {
      const member = group.member(input.memberId);
      this.scheduleHeartbeat(group, member, member.sessionTimeoutMs);
    }
    return ErrorCode.NONE;
  }

  /**
   * TxnOffsetCommit (Kafka's OffsetMetadataManager.validateTransactionalOffsetCommit): an unknown
   * group is created as a simple group when the generation is -1 (a producer outside group
   * management), and is ILLEGAL_GENERATION for a generation (the member's group is gone); then
   * the KIP-447 checks of ClassicGroup.validateTxnOffsetCommit.
   */
  validateTxnOffsetCommit(input: TxnOffsetCommitInput): number {
    let group = this.groups.get(input.groupId);
    if (group === undefined) {
      if (input.generationId >= 0) return ErrorCode.ILLEGAL_GENERATION;
      group = this.groups.create(input.groupId, this.clock.now());
    }
    return group.validateTxnOffsetCommit(input.memberId, input.groupInstanceId, input.generationId);
  }

  /**
   * Another broker coordinates the group now (cluster mode): its parked JoinGroup/SyncGroup
   * requests answer NOT_COORDINATOR, its members' timers stop, and it is forgotten here.
   */
  unloadGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    for (const member of group.members) {
      group.completeJoin(member, joinError(member.memberId, ErrorCode.NOT_COORDINATOR));
      group.completeSync(member, syncError(ErrorCode.NOT_COORDINATOR));
      this.timers.cancel(heartbeatKey(groupId, member.memberId));
    }
    this.forgetGroup(groupId);
  }

  /** Forgets a group whose deletion was written: Dead, its timers cancelled. */
  forgetGroup(groupId: string): void {
    const group = this.groups.get(groupId);
    if (group === undefined) return;
    group.transitionTo('Dead', this.clock.now());
    this.groups.delete(group.groupId);
    this.timers.cancel(joinKey(group.groupId));
    this.timers.cancel(syncKey(group.groupId));
  }

  // ---- log records ---------------------------------------------------------------------------

  /** Empty-group metadata: a failed write is only logged (the previous generation had no members either way). */
  private appendBestEffort(group: ClassicGroup, assignment: ReadonlyMap<string, Uint8Array>): void {
    try {
      this.append(group.groupId, [this.groupMetadataRecord(group, assignment)]).durable.catch((err) =>
        this.logger.warn({ group: group.groupId, err }, 'flushing empty group metadata failed'),
      );
    } catch (err) {
      this.logger.warn({ group: group.groupId, errorCode: groupLogErrorCode(err) }, 'could not write empty group metadata');
    }
  }

  private groupMetadataRecord(group: ClassicGroup, assignment: ReadonlyMap<string, Uint8Array>): GroupLogRecord {
    return { key: encodeGroupKey(group.groupId), value: encodeGroupValue(group.toRecordValue(assignment)) };
  }
}

// Timer keys, unambiguous whatever the ids contain (the group id's length is spelled out).
function joinKey(groupId: string): string {
  return `join:${groupId.length}:${groupId}`;
}

function syncKey(groupId: string): string {
  return `sync:${groupId.length}:${groupId}`;
}

function heartbeatKey(groupId: string, memberId: string): string {
  return `heartbeat:${groupId.length}:${groupId}:${memberId}`;
}

// The classic groups by id, and what can be read off them without running the rebalance state
// machine: listing, describing, the checks DeleteGroups and the offset manager need, and the
// replay of group metadata records. The ClassicGroupManager (classic-group-manager.ts) changes the
// groups; the GroupCoordinator (coordinator.ts) reads them through this.
//
// Concurrency: event loop only; owned by the GroupCoordinator, shared with its managers.

import { ErrorCode } from '@sluice/protocol';
import { ClassicGroup, GROUP_STATES, type GroupState } from './group.ts';
import type { GroupLogRecord } from './group-log.ts';
import type { OffsetExpirationCandidate } from './offset-manager.ts';
import { decodeGroupValue, encodeGroupKey } from './records.ts';
import { CONSUMER_PROTOCOL_TYPE, isSubscribedToTopic } from './subscriptions.ts';
import type { DescribedGroup, ListedGroup } from './types.ts';

export class ClassicGroups {
  private readonly byId = new Map<string, ClassicGroup>();

  get(groupId: string): ClassicGroup | undefined {
    return this.byId.get(groupId);
  }

  has(groupId: string): boolean {
    return this.byId.has(groupId);
  }

  values(): IterableIterator<ClassicGroup> {
    return this.byId.values();
  }

  get size(): number {
    return this.byId.size;
  }

  /** A new Empty group (a first JoinGroup, or a "simple" group's first commit). */
  create(groupId: string, nowMs: number): ClassicGroup {
    const group = new ClassicGroup(groupId, 'Empty', nowMs);
    this.byId.set(groupId, group);
    return group;
  }

  delete(groupId: string): void {
    this.byId.delete(groupId);
  }

  /** Replay of a group metadata record (a null value: the group was deleted). */
  replay(groupId: string, value: Uint8Array | null): void {
    if (value === null) {
      this.byId.delete(groupId);
      return;
    }
    this.byId.set(groupId, ClassicGroup.fromRecordValue(groupId, decodeGroupValue(value)));
  }

  /** Every group, optionally only those whose state is in `statesFilter` (case-insensitive). */
  list(statesFilter: readonly string[] = []): ListedGroup[] {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: ListedGroup[] = [];
    for (const group of this.byId.values()) {
      if (wanted.size > 0 && !wanted.has(group.state.toLowerCase())) continue;
      out.push({ groupId: group.groupId, protocolType: group.protocolType ?? '', groupState: group.state });
    }
    return out;
  }

  /** A group unknown here is described as Dead with no error, as Kafka does before v6. */
  describe(groupId: string): DescribedGroup {
    const group = this.byId.get(groupId);
    if (group === undefined) return { errorCode: ErrorCode.NONE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType ?? '',
      // The selected protocol, metadata and assignments are shown only for a Stable group.
      protocolData: group.is('Stable') ? (group.protocolName ?? '') : '',
      members: group.describedMembers(),
    };
  }

  /** DeleteGroups: NONE when the group may be deleted (it exists and is Empty). */
  validateDelete(groupId: string): number {
    const group = this.byId.get(groupId);
    if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  /**
   * OffsetDelete (Kafka's ClassicGroup.validateOffsetDelete): an unknown or Dead group is
   * GROUP_ID_NOT_FOUND; a group with members that is not a consumer group is NON_EMPTY_GROUP
   * (whether a consumer group's member consumes a topic is decided per topic).
   */
  validateOffsetDelete(groupId: string): number {
    const group = this.byId.get(groupId);
    if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty') && group.protocolType !== CONSUMER_PROTOCOL_TYPE) return ErrorCode.NON_EMPTY_GROUP;
    return ErrorCode.NONE;
  }

  /** Whether the group consumes `topic`, so its offsets there may not be deleted. */
  isSubscribedToTopic(groupId: string, topic: string): boolean {
    const group = this.byId.get(groupId);
    return group !== undefined && isSubscribedToTopic(group, topic);
  }

  /** The records that delete a group's metadata. */
  tombstones(groupId: string): GroupLogRecord[] {
    return [{ key: encodeGroupKey(groupId), value: null }];
  }

  /** A group whose committed offsets a fetch may see: known here and not Dead. */
  offsetsVisible(groupId: string): boolean {
    const group = this.byId.get(groupId);
    return group !== undefined && !group.is('Dead');
  }

  /**
   * Every group whose offsets may expire now (Kafka's Group.offsetExpirationCondition), with the
   * timestamp each offset's retention counts from: a simple group's offsets from their commit, an
   * Empty group's from when it became Empty. Groups with members keep their offsets.
   */
  offsetExpirationCandidates(): OffsetExpirationCandidate[] {
    const out: OffsetExpirationCandidate[] = [];
    for (const group of this.byId.values()) {
      const retentionBase = group.offsetExpirationBase();
      if (retentionBase !== null) out.push({ groupId: group.groupId, retentionBase, deletableWithoutOffsets: group.is('Empty') });
    }
    return out;
  }

  /** Groups per state. */
  stateCounts(): Record<GroupState, number> {
    const counts = Object.fromEntries(GROUP_STATES.map((s) => [s, 0])) as Record<GroupState, number>;
    for (const group of this.byId.values()) counts[group.state]++;
    return counts;
  }
}

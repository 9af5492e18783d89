// Coordinator membership: joins, rebalances, syncs, heartbeats, leaves, session expiry, static
// members. Deterministic: a ManualClock drives every timer.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import {
  harness,
  joinInput,
  keepAlive,
  memberIdFor,
  protocol,
  REBALANCE_MS,
  SESSION_MS,
  settle,
  stableGroup,
  syncInput,
  TEST_CONFIG,
  watch,
} from '../testing/group-harness.ts';

const DELAY = TEST_CONFIG.initialRebalanceDelayMs;

describe('JoinGroup', () => {
  test('v4+: a member without an id gets one with MEMBER_ID_REQUIRED, then joins with it', async () => {
    const h = harness();
    const first = await h.coordinator.joinGroup(joinInput('g', '', { clientId: 'app' }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^app-[0-9a-f-]{36}$/);
    expect(first.generationId).toBe(-1);
    // The group exists but nobody joined yet.
    expect(h.coordinator.groupState('g')).toBe('Empty');

    const join = watch(h.coordinator.joinGroup(joinInput('g', first.memberId)));
    await settle();
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(join.done).toBe(false);
    h.clock.advance(DELAY);
    await settle();
    expect(join.value).toMatchObject({
      errorCode: 0,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: first.memberId,
      memberId: first.memberId,
    });
    expect(join.value!.members.map((m) => m.memberId)).toEqual([first.memberId]);
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');
  });

  test('v2-3: a member without an id joins in one step', async () => {
    const h = harness();
    const join = watch(h.coordinator.joinGroup(joinInput('g', '', { requireKnownMemberId: false, clientId: 'old' })));
    h.clock.advance(DELAY);
    await settle();
    expect(join.value).toMatchObject({ errorCode: 0, generationId: 1 });
    expect(join.value!.memberId).toMatch(/^old-/);
    expect(join.value!.leader).toBe(join.value!.memberId);
  });

  test('a known member id for a group that does not exist is UNKNOWN_MEMBER_ID', async () => {
    const h = harness();
    expect((await h.coordinator.joinGroup(joinInput('nope', 'ghost'))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(h.coordinator.groupState('nope')).toBeUndefined();
  });

  test('empty group id, session timeouts outside the configured range', async () => {
    const h = harness();
    expect((await h.coordinator.joinGroup(joinInput('', ''))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    const tooShort = await h.coordinator.joinGroup(joinInput('g', 'm', { sessionTimeoutMs: TEST_CONFIG.minSessionTimeoutMs - 1 }));
    expect(tooShort).toMatchObject({ errorCode: ErrorCode.INVALID_SESSION_TIMEOUT, memberId: 'm' });
    const tooLong = await h.coordinator.joinGroup(joinInput('g', '', { sessionTimeoutMs: TEST_CONFIG.maxSessionTimeoutMs + 1 }));
    expect(tooLong.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
  });

  test('initial rebalance delay: extended while members keep arriving, bounded by the rebalance timeout', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    const joinA = watch(h.coordinator.joinGroup(joinInput('g', a)));
    h.clock.advance(DELAY - 1);
    const b = await memberIdFor(h, 'g');
    const joinB = watch(h.coordinator.joinGroup(joinInput('g', b)));
    // The first delay expires with a new member added: extended by another delay.
    h.clock.advance(1);
    await settle();
    expect(joinA.done).toBe(false);
    h.clock.advance(DELAY - 1);
    await settle();
    expect(joinA.done).toBe(false);
    h.clock.advance(1);
    await settle();
    expect(joinA.value!.generationId).toBe(1);
    expect(joinB.value!.generationId).toBe(1);
    // The first joiner leads and alone receives the members' metadata.
    expect(joinA.value!.leader).toBe(a);
    expect(joinA.value!.members.map((m) => m.memberId)).toEqual([a, b]);
    expect(joinB.value!.leader).toBe(a);
    expect(joinB.value!.members).toEqual([]);
  });

  test('initial rebalance: no extension beyond the rebalance timeout even if members keep coming', async () => {
    const h = harness({ initialRebalanceDelayMs: 1000 });
    const joins = [];
    const a = await memberIdFor(h, 'g');
    joins.push(watch(h.coordinator.joinGroup(joinInput('g', a, { rebalanceTimeoutMs: 2500 }))));
    let elapsed = 0;
    while (!joins[0].done && elapsed < 10_000) {
      const id = await memberIdFor(h, 'g');
      joins.push(watch(h.coordinator.joinGroup(joinInput('g', id, { rebalanceTimeoutMs: 2500 }))));
      h.clock.advance(500);
      elapsed += 500;
      await settle();
    }
    // delay 1000, remaining 1500: extended at most twice (1000 + 1000 + 1000 worth of timers).
    expect(elapsed).toBeLessThanOrEqual(3000);
    expect(joins[0].value!.errorCode).toBe(0);
  });

  test('a group with initial delay 0 completes the first join on the next timer tick', async () => {
    const h = harness({ initialRebalanceDelayMs: 0 });
    const a = await memberIdFor(h, 'g');
    const join = watch(h.coordinator.joinGroup(joinInput('g', a)));
    h.clock.advance(0);
    await settle();
    expect(join.value!.generationId).toBe(1);
  });

  test('protocol selection: only protocols every member supports; most votes win', async () => {
    const h = harness();
    const prefs = [
      [protocol('range', 1), protocol('roundrobin', 2), protocol('sticky', 3)],
      [protocol('roundrobin', 4), protocol('range', 5), protocol('sticky', 6)],
      [protocol('sticky', 7), protocol('roundrobin', 8)],
    ];
    const { joins } = await stableGroup(h, 'g', 3, (i) => ({ protocols: prefs[i] }));
    // Candidates: roundrobin, sticky (range is missing from the third). Votes: roundrobin from
    // the first (range is out) and second, sticky from the third.
    expect(joins[0].protocolName).toBe('roundrobin');
    // The leader sees each member's metadata for the selected protocol, byte-exact.
    expect(joins[0].members.map((m) => [...m.metadata])).toEqual([[2], [4], [8]]);
  });

  test('INCONSISTENT_GROUP_PROTOCOL: a different protocol type, no common protocol, or an empty list', async () => {
    const h = harness();
    await stableGroup(h, 'g', 1, () => ({ protocols: [protocol('range')] }));
    expect((await h.coordinator.joinGroup(joinInput('g', '', { protocolType: 'connect' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.coordinator.joinGroup(joinInput('g', '', { protocols: [protocol('sticky')] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // An empty group accepts any protocol type, but not an empty one nor an empty list.
    expect((await h.coordinator.joinGroup(joinInput('h', '', { protocolType: '' }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await h.coordinator.joinGroup(joinInput('h', '', { protocols: [] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  test('a follower rejoining a Stable group unchanged gets the current generation without a rebalance', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2);
    const follower = g.memberIds[1];
    const again = await h.coordinator.joinGroup(joinInput('g', follower, { clientId: 'client-1' }));
    expect(again).toMatchObject({ errorCode: 0, generationId: g.generationId, leader: g.leader, members: [] });
    expect(h.coordinator.groupState('g')).toBe('Stable');
  });

  test('the leader rejoining a Stable group, or a member with new metadata, starts a rebalance', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2);
    const leaderJoin = watch(h.coordinator.joinGroup(joinInput('g', g.leader, { clientId: 'client-0' })));
    await settle();
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: g.memberIds[1], groupInstanceId: null })).toBe(
      ErrorCode.REBALANCE_IN_PROGRESS,
    );
    // The follower rejoins with new metadata: everyone is in, the join phase completes at once.
    const followerJoin = watch(h.coordinator.joinGroup(joinInput('g', g.memberIds[1], { protocols: [protocol('range', 9, 9)] })));
    await settle();
    expect(leaderJoin.value).toMatchObject({ errorCode: 0, generationId: g.generationId + 1 });
    expect(followerJoin.value).toMatchObject({ errorCode: 0, generationId: g.generationId + 1 });
    expect(leaderJoin.value!.members.find((m) => m.memberId === g.memberIds[1])!.metadata).toEqual(Uint8Array.from([9, 9]));
  });

  test('a member that does not rejoin within the rebalance timeout is dropped', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2);
    const join = watch(h.coordinator.joinGroup(joinInput('g', g.leader)));
    // The other member keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
    keepAlive(h, 'g', [{ memberId: g.memberIds[1], generationId: g.generationId }], REBALANCE_MS - 1);
    await settle();
    expect(join.done).toBe(false);
    h.clock.advance(1);
    await settle();
    expect(join.value).toMatchObject({ errorCode: 0, generationId: g.generationId + 1 });
    expect(join.value!.members.map((m) => m.memberId)).toEqual([g.leader]);
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: g.memberIds[1], groupInstanceId: null })).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  test('a pending member id that never comes back expires after its session timeout', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    await memberIdFor(h, 'g'); // a second consumer starts, then dies before its second JoinGroup
    const rejoin = watch(h.coordinator.joinGroup(joinInput('g', g.leader)));
    await settle();
    expect(rejoin.done).toBe(false); // waiting for the pending member
    h.clock.advance(SESSION_MS);
    await settle();
    expect(rejoin.value).toMatchObject({ errorCode: 0, generationId: 2 });
  });

  test('group.max.size: a new member beyond the limit is GROUP_MAX_SIZE_REACHED; members may rejoin', async () => {
    const h = harness({ maxGroupSize: 2 });
    const g = await stableGroup(h, 'g', 2);
    const third = await h.coordinator.joinGroup(joinInput('g', '', { requireKnownMemberId: false }));
    expect(third).toMatchObject({ errorCode: ErrorCode.GROUP_MAX_SIZE_REACHED, memberId: '' });
    expect((await h.coordinator.joinGroup(joinInput('g', g.memberIds[1], { clientId: 'client-1' }))).errorCode).toBe(0);
  });

  test('a superseded JoinGroup from the same member is answered REBALANCE_IN_PROGRESS', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    const first = watch(h.coordinator.joinGroup(joinInput('g', a)));
    const second = watch(h.coordinator.joinGroup(joinInput('g', a)));
    await settle();
    expect(first.value!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    h.clock.advance(DELAY);
    await settle();
    expect(second.value).toMatchObject({ errorCode: 0, generationId: 1 });
  });
});

describe('SyncGroup', () => {
  test("the leader's assignment reaches every member byte-exact; the group becomes Stable", async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    const b = await memberIdFor(h, 'g');
    const ja = watch(h.coordinator.joinGroup(joinInput('g', a)));
    const jb = watch(h.coordinator.joinGroup(joinInput('g', b)));
    h.clock.advance(2 * DELAY);
    await settle();
    const generation = ja.value!.generationId;
    expect(jb.value!.generationId).toBe(generation);
    // The follower syncs first and waits for the leader.
    const sb = watch(h.coordinator.syncGroup(syncInput('g', b, generation)));
    await settle();
    expect(sb.done).toBe(false);
    const sa = await h.coordinator.syncGroup(syncInput('g', a, generation, { [a]: [0, 1, 2, 255], [b]: [9, 0, 8] }));
    await settle();
    expect(sa).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' });
    expect(sa.assignment).toEqual(Uint8Array.from([0, 1, 2, 255]));
    expect(sb.value!.assignment).toEqual(Uint8Array.from([9, 0, 8]));
    expect(h.coordinator.groupState('g')).toBe('Stable');
    // Syncing again in Stable returns the stored assignment.
    expect((await h.coordinator.syncGroup(syncInput('g', b, generation))).assignment).toEqual(Uint8Array.from([9, 0, 8]));
  });

  test('members missing from the assignment get empty bytes', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, () => ({}));
    expect(g.syncs.map((s) => [...s.assignment])).toEqual([[0], [1]]);
    const h2 = harness();
    const a = await memberIdFor(h2, 'g');
    const b = await memberIdFor(h2, 'g');
    const ja = watch(h2.coordinator.joinGroup(joinInput('g', a)));
    watch(h2.coordinator.joinGroup(joinInput('g', b)));
    h2.clock.advance(2 * DELAY);
    await settle();
    const sb = watch(h2.coordinator.syncGroup(syncInput('g', b, 1)));
    await h2.coordinator.syncGroup(syncInput('g', a, ja.value!.generationId, { [a]: [1] }));
    await settle();
    expect(sb.value).toMatchObject({ errorCode: 0 });
    expect(sb.value!.assignment.length).toBe(0);
  });

  test('errors: unknown group, unknown member, wrong generation, rebalance in progress, inconsistent protocol', async () => {
    const h = harness();
    expect((await h.coordinator.syncGroup(syncInput('nope', 'm', 1))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await h.coordinator.syncGroup(syncInput('', 'm', 1))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    const g = await stableGroup(h, 'g', 2);
    expect((await h.coordinator.syncGroup(syncInput('g', 'stranger', g.generationId))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await h.coordinator.syncGroup(syncInput('g', g.leader, g.generationId + 1))).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await h.coordinator.syncGroup(syncInput('g', g.leader, g.generationId, {}, { protocolType: 'connect' }))).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await h.coordinator.syncGroup(syncInput('g', g.leader, g.generationId, {}, { protocolName: 'sticky' }))).errorCode).toBe(
      ErrorCode.INCONSISTENT_GROUP_PROTOCOL,
    );
    expect((await h.coordinator.syncGroup(syncInput('g', g.leader, g.generationId, {}, { protocolType: 'consumer', protocolName: 'range' }))).errorCode).toBe(
      0,
    );
    watch(h.coordinator.joinGroup(joinInput('g', g.leader)));
    await settle();
    expect((await h.coordinator.syncGroup(syncInput('g', g.memberIds[1], g.generationId))).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  test('a member that never sends SyncGroup is dropped after the rebalance timeout; the group rebalances', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    const b = await memberIdFor(h, 'g');
    const ja = watch(h.coordinator.joinGroup(joinInput('g', a)));
    watch(h.coordinator.joinGroup(joinInput('g', b)));
    h.clock.advance(2 * DELAY);
    await settle();
    await h.coordinator.syncGroup(syncInput('g', a, 1, { [a]: [1], [b]: [2] }));
    expect(h.coordinator.groupState('g')).toBe('Stable');
    // b never syncs (it heartbeats, so only the pending-sync timer can catch it).
    keepAlive(
      h,
      'g',
      [
        { memberId: a, generationId: 1 },
        { memberId: b, generationId: 1 },
      ],
      REBALANCE_MS,
    );
    await settle();
    expect(h.coordinator.group('g')!.has(b)).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null })).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(ja.value!.generationId).toBe(1);
  });

  test('a failed write of the assignment answers every parked sync with the mapped error and rebalances', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    const b = await memberIdFor(h, 'g');
    watch(h.coordinator.joinGroup(joinInput('g', a)));
    watch(h.coordinator.joinGroup(joinInput('g', b)));
    h.clock.advance(2 * DELAY);
    await settle();
    const sb = watch(h.coordinator.syncGroup(syncInput('g', b, 1)));
    h.log.failNextAppend(ErrorCode.KAFKA_STORAGE_ERROR);
    const sa = await h.coordinator.syncGroup(syncInput('g', a, 1, { [a]: [1], [b]: [2] }));
    await settle();
    expect(sa.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(sb.value!.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
  });

  test('answers wait for the assignment write to be durable', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    watch(h.coordinator.joinGroup(joinInput('g', a)));
    h.clock.advance(DELAY);
    await settle();
    h.log.holdFlushes();
    const sa = watch(h.coordinator.syncGroup(syncInput('g', a, 1, { [a]: [7] })));
    await settle();
    expect(sa.done).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');
    h.log.releaseFlushes();
    await settle();
    expect(sa.value!.assignment).toEqual(Uint8Array.from([7]));
    expect(h.coordinator.groupState('g')).toBe('Stable');
  });
});

describe('Heartbeat and session expiry', () => {
  test('error codes: unknown group or member, illegal generation, rebalance in progress, invalid group id', async () => {
    const h = harness();
    const hb = (memberId: string, generationId: number, groupId = 'g', groupInstanceId: string | null = null) =>
      h.coordinator.heartbeat({ groupId, generationId, memberId, groupInstanceId });
    expect(hb('m', 1, 'nope')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(hb('m', 1, '')).toBe(ErrorCode.INVALID_GROUP_ID);
    const g = await stableGroup(h, 'g', 2);
    expect(hb(g.leader, g.generationId)).toBe(ErrorCode.NONE);
    expect(hb('stranger', g.generationId)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(hb(g.leader, g.generationId - 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(hb(g.leader, g.generationId, 'g', 'not-static')).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    watch(h.coordinator.joinGroup(joinInput('g', g.leader)));
    await settle();
    expect(hb(g.memberIds[1], g.generationId)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  test('heartbeats between the JoinGroup answer and SyncGroup are accepted', async () => {
    const h = harness();
    const a = await memberIdFor(h, 'g');
    watch(h.coordinator.joinGroup(joinInput('g', a)));
    h.clock.advance(DELAY);
    await settle();
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: 1, memberId: a, groupInstanceId: null })).toBe(ErrorCode.NONE);
  });

  test('a member that never heartbeats expires; the group rebalances and the survivor carries on', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2);
    const [alive, silent] = g.memberIds;
    // The live member heartbeats every 3 s; the other never does.
    for (let t = 0; t < SESSION_MS; t += 3000) {
      h.clock.advance(3000);
      const error = h.coordinator.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: alive, groupInstanceId: null });
      if (error !== ErrorCode.NONE) {
        expect(error).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
        break;
      }
    }
    expect(h.coordinator.group('g')!.has(silent)).toBe(false);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    const rejoin = await h.coordinator.joinGroup(joinInput('g', alive));
    expect(rejoin).toMatchObject({ errorCode: 0, generationId: g.generationId + 1, leader: alive });
    expect(rejoin.members.map((m) => m.memberId)).toEqual([alive]);
  });

  test('when the last member expires the group becomes Empty and the empty generation is written', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    const before = h.log.recordCount;
    h.clock.advance(SESSION_MS);
    await settle();
    expect(h.coordinator.groupState('g')).toBe('Empty');
    expect(h.coordinator.group('g')!.generationId).toBe(g.generationId + 1);
    expect(h.log.recordCount).toBe(before + 1);
  });
});

describe('LeaveGroup', () => {
  test('a leaving follower triggers a rebalance; the leader rejoins alone', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2);
    const result = h.coordinator.leaveGroup('g', [{ memberId: g.memberIds[1], groupInstanceId: null, reason: 'shutdown' }]);
    expect(result).toEqual({ errorCode: 0, members: [{ memberId: g.memberIds[1], groupInstanceId: null, errorCode: 0 }] });
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    const rejoin = await h.coordinator.joinGroup(joinInput('g', g.leader));
    expect(rejoin.generationId).toBe(g.generationId + 1);
  });

  test('the leader leaving during CompletingRebalance: parked syncs get REBALANCE_IN_PROGRESS and a new leader is elected', async () => {
    const h = harness();
    const ids = [await memberIdFor(h, 'g'), await memberIdFor(h, 'g'), await memberIdFor(h, 'g')];
    const joins = ids.map((id) => watch(h.coordinator.joinGroup(joinInput('g', id))));
    h.clock.advance(3 * DELAY);
    await settle();
    const [leader, b, c] = ids;
    expect(joins[0].value!.leader).toBe(leader);
    const sb = watch(h.coordinator.syncGroup(syncInput('g', b, 1)));
    const sc = watch(h.coordinator.syncGroup(syncInput('g', c, 1)));
    await settle();
    expect(h.coordinator.leaveGroup('g', [{ memberId: leader, groupInstanceId: null, reason: null }]).members[0].errorCode).toBe(0);
    await settle();
    expect(sb.value!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(sc.value!.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    const jb = watch(h.coordinator.joinGroup(joinInput('g', b)));
    const jc = watch(h.coordinator.joinGroup(joinInput('g', c)));
    await settle();
    expect(jb.value).toMatchObject({ errorCode: 0, generationId: 2, leader: b });
    expect(jc.value).toMatchObject({ errorCode: 0, generationId: 2, leader: b });
    expect(jb.value!.members.map((m) => m.memberId)).toEqual([b, c]);
  });

  test('the leader leaving during PreparingRebalance: leadership goes to a member that rejoined', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 3);
    const [leader, b, c] = g.memberIds;
    // c's metadata changes: a rebalance starts and c is the only member back so far.
    const jc = watch(h.coordinator.joinGroup(joinInput('g', c, { protocols: [protocol('range', 5)] })));
    await settle();
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    h.coordinator.leaveGroup('g', [{ memberId: leader, groupInstanceId: null, reason: null }]);
    // Succession hands the lead to b, which never rejoins: it is dropped when its session ends
    // and c, which rejoined, leads the next generation.
    expect(h.coordinator.group('g')!.leaderId).toBe(b);
    h.clock.advance(SESSION_MS);
    await settle();
    expect(jc.value).toMatchObject({ errorCode: 0, generationId: g.generationId + 1, leader: c });
    expect(jc.value!.members.map((m) => m.memberId)).toEqual([c]);
  });

  test('v3+ batch: per-member errors, pending members, admin removal by instance id, unknown group', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 3, (i) => ({ groupInstanceId: i === 2 ? 'instance-2' : null }));
    const pending = await memberIdFor(h, 'g');
    const result = h.coordinator.leaveGroup('g', [
      { memberId: 'stranger', groupInstanceId: null, reason: null },
      { memberId: g.memberIds[1], groupInstanceId: null, reason: null },
      { memberId: '', groupInstanceId: 'instance-2', reason: 'admin' },
      { memberId: '', groupInstanceId: 'no-such-instance', reason: null },
      { memberId: g.memberIds[0], groupInstanceId: 'instance-2', reason: null },
      { memberId: pending, groupInstanceId: null, reason: null },
    ]);
    expect(result.errorCode).toBe(0);
    expect(result.members.map((m) => m.errorCode)).toEqual([
      ErrorCode.UNKNOWN_MEMBER_ID,
      0,
      0,
      ErrorCode.UNKNOWN_MEMBER_ID,
      // instance-2 was removed by the previous entry, so it is unknown now.
      ErrorCode.UNKNOWN_MEMBER_ID,
      0,
    ]);
    expect([...h.coordinator.group('g')!.members].map((m) => m.memberId)).toEqual([g.memberIds[0]]);
    expect(h.coordinator.leaveGroup('nope', [{ memberId: 'm', groupInstanceId: null, reason: null }])).toEqual({
      errorCode: 0,
      members: [{ memberId: 'm', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }],
    });
    expect(h.coordinator.leaveGroup('', []).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
  });

  test('the last member leaving makes the group Empty', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    h.coordinator.leaveGroup('g', [{ memberId: g.leader, groupInstanceId: null, reason: null }]);
    expect(h.coordinator.groupState('g')).toBe('Empty');
    expect(h.coordinator.group('g')!.generationId).toBe(g.generationId + 1);
  });
});

describe('static membership', () => {
  const staticMember = (i: number) => ({ groupInstanceId: `instance-${i}` });

  test('a restarted static member rejoins under a new id, keeps its assignment, no rebalance; the old id is fenced', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, staticMember);
    const oldId = g.memberIds[1];
    const rejoin = await h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'instance-1', clientId: 'client-1' }));
    expect(rejoin.errorCode).toBe(0);
    expect(rejoin.memberId).toMatch(/^instance-1-/);
    expect(rejoin.memberId).not.toBe(oldId);
    expect(rejoin).toMatchObject({ generationId: g.generationId, leader: g.leader, members: [] });
    expect(h.coordinator.groupState('g')).toBe('Stable');
    const sync = await h.coordinator.syncGroup(syncInput('g', rejoin.memberId, g.generationId, {}, { groupInstanceId: 'instance-1' }));
    expect(sync.assignment).toEqual(Uint8Array.from([1]));
    // The stale instance (old member id) is fenced everywhere.
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: oldId, groupInstanceId: 'instance-1' })).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expect((await h.coordinator.joinGroup(joinInput('g', oldId, { groupInstanceId: 'instance-1' }))).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect((await h.coordinator.syncGroup(syncInput('g', oldId, g.generationId, {}, { groupInstanceId: 'instance-1' }))).errorCode).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    expect(h.coordinator.leaveGroup('g', [{ memberId: oldId, groupInstanceId: 'instance-1', reason: null }]).members[0].errorCode).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
  });

  test('a rejoining static leader is told the old leader id (v<9) or to skip the assignment (v9)', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, staticMember);
    const oldLeader = g.leader;
    const rejoin = await h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'instance-0' }));
    expect(rejoin.leader).toBe(oldLeader);
    expect(rejoin.memberId).not.toBe(oldLeader);
    expect(h.coordinator.group('g')!.leaderId).toBe(rejoin.memberId);
    const v9 = await h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'instance-0', supportSkippingAssignment: true }));
    expect(v9).toMatchObject({ errorCode: 0, leader: v9.memberId, skipAssignment: true });
    expect(v9.members.map((m) => m.memberId).sort()).toEqual([v9.memberId, g.memberIds[1]].sort());
  });

  test('if the new static member id cannot be written, the old id is restored and the join fails', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, staticMember);
    h.log.failNextAppend(ErrorCode.KAFKA_STORAGE_ERROR);
    const rejoin = await h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'instance-1' }));
    expect(rejoin).toMatchObject({ errorCode: ErrorCode.NOT_COORDINATOR, memberId: '', generationId: g.generationId });
    expect(h.coordinator.group('g')!.staticMemberId('instance-1')).toBe(g.memberIds[1]);
    expect(h.coordinator.heartbeat({ groupId: 'g', generationId: g.generationId, memberId: g.memberIds[1], groupInstanceId: 'instance-1' })).toBe(0);
  });

  test('a static member rejoining with a protocol change that changes the selection rebalances', async () => {
    const h = harness();
    await stableGroup(h, 'g', 1, () => ({ groupInstanceId: 'solo', protocols: [protocol('range'), protocol('sticky')] }));
    const rejoin = watch(h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'solo', protocols: [protocol('sticky'), protocol('range')] })));
    await settle();
    expect(h.coordinator.groupState('g')).toBe('CompletingRebalance');
    expect(rejoin.value).toMatchObject({ errorCode: 0, generationId: 2, protocolName: 'sticky' });
  });

  test('static members that do not rejoin in a rebalance are kept (until their session expires)', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 2, staticMember);
    const join = watch(h.coordinator.joinGroup(joinInput('g', g.leader, { groupInstanceId: 'instance-0' })));
    keepAlive(h, 'g', [{ memberId: g.memberIds[1], generationId: g.generationId, groupInstanceId: 'instance-1' }], REBALANCE_MS);
    await settle();
    expect(join.value).toMatchObject({ errorCode: 0, generationId: g.generationId + 1 });
    expect(h.coordinator.group('g')!.has(g.memberIds[1])).toBe(true);
  });

  test('a static member joining with an unknown instance id and a member id is UNKNOWN_MEMBER_ID', async () => {
    const h = harness();
    const g = await stableGroup(h, 'g', 1);
    expect((await h.coordinator.joinGroup(joinInput('g', g.leader, { groupInstanceId: 'never-seen' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('a static rejoin during CompletingRebalance fences the old id and starts a new rebalance', async () => {
    const h = harness();
    const ja = watch(h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'a' })));
    const jb = watch(h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'b' })));
    h.clock.advance(2 * DELAY);
    await settle();
    // Static members get their id straight away (no MEMBER_ID_REQUIRED round).
    expect(ja.value).toMatchObject({ errorCode: 0, generationId: 1 });
    const oldB = jb.value!.memberId;
    const parkedSync = watch(h.coordinator.syncGroup(syncInput('g', oldB, 1, {}, { groupInstanceId: 'b' })));
    const rejoinB = watch(h.coordinator.joinGroup(joinInput('g', '', { groupInstanceId: 'b' })));
    await settle();
    expect(parkedSync.value!.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(h.coordinator.groupState('g')).toBe('PreparingRebalance');
    const rejoinA = watch(h.coordinator.joinGroup(joinInput('g', ja.value!.memberId, { groupInstanceId: 'a' })));
    await settle();
    expect(rejoinA.value).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(rejoinB.value).toMatchObject({ errorCode: 0, generationId: 2 });
    expect(rejoinB.value!.memberId).not.toBe(oldB);
  });
});

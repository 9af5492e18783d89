// JoinGroup, SyncGroup, Heartbeat and LeaveGroup through the codec at each served version.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { fakeBroker, harness, settle, TEST_CONFIG } from '../testing/group-harness.ts';
import { heartbeatHandler } from './heartbeat.ts';
import { joinGroupHandler } from './join-group.ts';
import { leaveGroupHandler } from './leave-group.ts';
import { syncGroupHandler } from './sync-group.ts';

const protocols = [{ name: 'range', metadata: Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 1, 116]) }];

function joinBody(memberId: string, extra: object = {}) {
  return {
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols,
    reason: null,
    ...extra,
  };
}

/** Runs a join through the handler while the clock passes the initial rebalance delay. */
async function joinAndWait(h: ReturnType<typeof harness>, version: number, body: object): Promise<any> {
  const pending = callHandler(
    joinGroupHandler,
    fakeBroker(() => h.coordinator),
    version,
    body,
  );
  await settle();
  h.clock.advance(TEST_CONFIG.initialRebalanceDelayMs);
  return pending;
}

describe('JoinGroup', () => {
  test.each([2, 3])('v%i: joins in one step, the member id comes from the client id', async (version) => {
    const h = harness();
    const response = await joinAndWait(h, version, joinBody(''));
    expect(response).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range' });
    expect(response.memberId).toMatch(/^test-client-/);
    expect(response.leader).toBe(response.memberId);
    expect(response.members).toEqual([{ memberId: response.memberId, groupInstanceId: null, metadata: protocols[0].metadata }]);
  });

  test.each([4, 5, 6, 7, 8, 9])('v%i: MEMBER_ID_REQUIRED, then the join with that id', async (version) => {
    const h = harness();
    const broker = fakeBroker(() => h.coordinator);
    const first = await callHandler(joinGroupHandler, broker, version, joinBody(''));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    // Before v7 protocolName is not nullable: an error answer carries "".
    expect(first.protocolName).toBe(version >= 7 ? null : '');
    const second = await joinAndWait(h, version, joinBody(first.memberId));
    expect(second).toMatchObject({ errorCode: 0, generationId: 1, memberId: first.memberId, leader: first.memberId, protocolName: 'range' });
    if (version >= 7) expect(second.protocolType).toBe('consumer');
    expect(second.members[0].metadata).toEqual(protocols[0].metadata);
  });

  test('v5+: the client address is recorded as Kafka prints it', async () => {
    const h = harness();
    const response = await joinAndWait(h, 5, joinBody('', { groupInstanceId: 'static-1' }));
    expect(response.errorCode).toBe(0);
    expect([...h.coordinator.group('g')!.members][0]).toMatchObject({ clientId: 'test-client', clientHost: '/127.0.0.1', groupInstanceId: 'static-1' });
  });

  test('an out-of-range session timeout is INVALID_SESSION_TIMEOUT', async () => {
    const h = harness();
    const response = await callHandler(
      joinGroupHandler,
      fakeBroker(() => h.coordinator),
      5,
      joinBody('', { sessionTimeoutMs: 1 }),
    );
    expect(response.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
  });
});

describe('SyncGroup, Heartbeat, LeaveGroup', () => {
  async function stable(version: number) {
    const h = harness();
    const joined = await joinAndWait(h, 3, joinBody(''));
    const broker = fakeBroker(() => h.coordinator);
    const sync = await callHandler(syncGroupHandler, broker, version, {
      groupId: 'g',
      generationId: joined.generationId,
      memberId: joined.memberId,
      groupInstanceId: null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: joined.memberId, assignment: Uint8Array.from([0, 1, 2, 3]) }],
    });
    return { h, broker, joined, sync };
  }

  test.each([0, 1, 2, 3, 4, 5])('SyncGroup v%i: the assignment comes back byte-exact', async (version) => {
    const { sync } = await stable(version);
    expect(sync.errorCode).toBe(0);
    expect(sync.assignment).toEqual(Uint8Array.from([0, 1, 2, 3]));
    if (version >= 5) expect(sync).toMatchObject({ protocolType: 'consumer', protocolName: 'range' });
  });

  test('SyncGroup v5 without protocol type/name is INCONSISTENT_GROUP_PROTOCOL', async () => {
    const { broker, joined } = await stable(4);
    const response = await callHandler(syncGroupHandler, broker, 5, {
      groupId: 'g',
      generationId: joined.generationId,
      memberId: joined.memberId,
      protocolType: null,
      protocolName: 'range',
      assignments: [],
    });
    expect(response.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  test.each([0, 1, 2, 3, 4])('Heartbeat v%i', async (version) => {
    const { broker, joined } = await stable(3);
    expect(
      (await callHandler(heartbeatHandler, broker, version, { groupId: 'g', generationId: joined.generationId, memberId: joined.memberId })).errorCode,
    ).toBe(0);
    expect((await callHandler(heartbeatHandler, broker, version, { groupId: 'g', generationId: 99, memberId: joined.memberId })).errorCode).toBe(
      ErrorCode.ILLEGAL_GENERATION,
    );
    expect((await callHandler(heartbeatHandler, broker, version, { groupId: 'g', generationId: 1, memberId: 'who' })).errorCode).toBe(
      ErrorCode.UNKNOWN_MEMBER_ID,
    );
  });

  test.each([0, 1, 2])('LeaveGroup v%i: one member id, one error code', async (version) => {
    const { h, broker, joined } = await stable(3);
    expect(await callHandler(leaveGroupHandler, broker, version, { groupId: 'g', memberId: 'who' })).toMatchObject({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID });
    expect(await callHandler(leaveGroupHandler, broker, version, { groupId: 'g', memberId: joined.memberId })).toMatchObject({ errorCode: 0 });
    expect(h.coordinator.groupState('g')).toBe('Empty');
  });

  test.each([3, 4, 5])('LeaveGroup v%i: batched members with per-member errors', async (version) => {
    const { h, broker, joined } = await stable(3);
    const response = await callHandler(leaveGroupHandler, broker, version, {
      groupId: 'g',
      members: [
        { memberId: 'who', groupInstanceId: null, reason: 'test' },
        { memberId: joined.memberId, groupInstanceId: null, reason: null },
      ],
    });
    expect(response).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      members: [
        { memberId: 'who', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
        { memberId: joined.memberId, groupInstanceId: null, errorCode: 0 },
      ],
    });
    expect(h.coordinator.groupState('g')).toBe('Empty');
  });
});

// ListGroups, DescribeGroups and DeleteGroups through the codec at each served version.

import { ErrorCode } from '@sluice/protocol';
import { describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { fakeBroker, harness, stableGroup } from '../testing/group-harness.ts';
import { deleteGroupsHandler } from './delete-groups.ts';
import { describeGroupsHandler } from './describe-groups.ts';
import { listGroupsHandler } from './list-groups.ts';

async function twoGroups() {
  const h = harness();
  const g = await stableGroup(h, 'busy', 2, (i) => ({ groupInstanceId: i === 0 ? 'inst-0' : null }));
  await h.coordinator.commitOffsets({
    groupId: 'idle',
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    retentionTimeMs: -1,
    apiVersion: 8,
    offsets: [{ topic: 't', partition: 0, offset: 1, leaderEpoch: -1, metadata: null }],
  });
  return { h, g, broker: fakeBroker(() => h.coordinator) };
}

describe('ListGroups', () => {
  test.each([0, 1, 2, 3])('v%i: every group with its protocol type', async (version) => {
    const { broker } = await twoGroups();
    const response = await callHandler(listGroupsHandler, broker, version, {});
    expect(response.errorCode).toBe(0);
    expect(response.groups.map((g: any) => [g.groupId, g.protocolType])).toEqual([
      ['busy', 'consumer'],
      ['idle', ''],
    ]);
  });

  test('v4: states filter and group state', async () => {
    const { broker } = await twoGroups();
    expect((await callHandler(listGroupsHandler, broker, 4, { statesFilter: [] })).groups).toEqual([
      // groupType is a v5 field: a v4 answer decodes it as its default, "".
      { groupId: 'busy', protocolType: 'consumer', groupState: 'Stable', groupType: '' },
      { groupId: 'idle', protocolType: '', groupState: 'Empty', groupType: '' },
    ]);
    expect((await callHandler(listGroupsHandler, broker, 4, { statesFilter: ['Empty'] })).groups.map((g: any) => g.groupId)).toEqual(['idle']);
  });

  test('v5: types filter and group type', async () => {
    const { broker } = await twoGroups();
    expect((await callHandler(listGroupsHandler, broker, 5, { statesFilter: [], typesFilter: [] })).groups.map((g: any) => [g.groupId, g.groupType])).toEqual([
      ['busy', 'classic'],
      ['idle', 'classic'],
    ]);
    expect((await callHandler(listGroupsHandler, broker, 5, { statesFilter: [], typesFilter: ['Consumer'] })).groups).toEqual([]);
    expect((await callHandler(listGroupsHandler, broker, 5, { statesFilter: [], typesFilter: ['CLASSIC'] })).groups).toHaveLength(2);
  });
});

describe('DescribeGroups', () => {
  test.each([0, 1, 2, 3, 4, 5])('v%i: members with metadata and assignment bytes', async (version) => {
    const { g, broker } = await twoGroups();
    const response = await callHandler(describeGroupsHandler, broker, version, { groups: ['busy', 'unknown'], includeAuthorizedOperations: true });
    const [busy, unknown] = response.groups;
    expect(busy).toMatchObject({ errorCode: 0, groupId: 'busy', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(busy.members.map((m: any) => [m.memberId, m.groupInstanceId, m.clientId, m.clientHost, [...m.memberMetadata], [...m.memberAssignment]])).toEqual([
      [g.memberIds[0], version >= 4 ? 'inst-0' : null, 'client-0', '/127.0.0.1', [1], [0]],
      [g.memberIds[1], null, 'client-1', '/127.0.0.1', [1], [1]],
    ]);
    expect(unknown).toMatchObject({ errorCode: 0, groupId: 'unknown', groupState: 'Dead', members: [] });
    if (version >= 3) expect(busy.authorizedOperations).toBe((1 << 3) | (1 << 6) | (1 << 8));
  });

  test('authorized operations are omitted unless asked for', async () => {
    const { broker } = await twoGroups();
    const response = await callHandler(describeGroupsHandler, broker, 5, { groups: ['busy'], includeAuthorizedOperations: false });
    expect(response.groups[0].authorizedOperations).toBe(-2147483648);
  });
});

describe('DeleteGroups', () => {
  test.each([0, 1, 2])('v%i: empty groups go, others are refused', async (version) => {
    const { h, broker } = await twoGroups();
    const response = await callHandler(deleteGroupsHandler, broker, version, { groupsNames: ['idle', 'busy', 'missing'] });
    expect(response.results).toEqual([
      { groupId: 'idle', errorCode: 0 },
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(h.coordinator.groupState('idle')).toBeUndefined();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@sluice/protocol';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from './consumer-protocol.ts';
import { GroupMember } from './group-member.ts';
import { KafkaClient } from './kafka-client.ts';
import { FakeBroker } from './testing/fake-broker.ts';

let broker: FakeBroker;
let client: KafkaClient | null = null;

afterEach(async () => {
  client?.close();
  client = null;
  await broker.stop();
});

const membership = { groupId: 'g', topics: ['t'], sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 5_000, requestTimeoutMs: 5_000 };

/** A fake coordinator for group 'g' on node 1; topic 't' has 5 partitions. */
async function coordinator(handlers: Record<number, (req: any) => object | null>): Promise<KafkaClient> {
  broker = await FakeBroker.start({
    handlers: {
      [ApiKey.FindCoordinator]: () => ({
        throttleTimeMs: 0,
        coordinators: [{ key: 'g', nodeId: 1, host: '127.0.0.1', port: broker.port, errorCode: 0, errorMessage: null }],
      }),
      [ApiKey.Metadata]: () => ({
        brokers: [{ nodeId: 1, host: '127.0.0.1', port: broker.port, rack: null }],
        clusterId: 'c',
        controllerId: 1,
        topics: [
          {
            errorCode: 0,
            name: 't',
            topicId: '11111111111111111111111111111111',
            partitions: [0, 1, 2, 3, 4].map((i) => ({ errorCode: 0, partitionIndex: i, leaderId: 1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] })),
          },
        ],
      }),
      ...handlers,
    },
  });
  return (client = await KafkaClient.connect({ bootstrap: broker.bootstrap }));
}

describe('GroupMember', () => {
  it('rejoins with the member id from MEMBER_ID_REQUIRED, and as leader assigns ranges to every member', async () => {
    const other = encodeSubscription({ topics: ['t'] }, 1);
    const c = await coordinator({
      [ApiKey.JoinGroup]: (req) =>
        req.body.memberId === ''
          ? { errorCode: ErrorCode.MEMBER_ID_REQUIRED, generationId: -1, protocolName: null, leader: '', memberId: 'm-2', members: [] }
          : {
              errorCode: 0,
              generationId: 4,
              protocolType: 'consumer',
              protocolName: 'range',
              leader: 'm-2',
              memberId: 'm-2',
              members: [
                { memberId: 'm-2', groupInstanceId: null, metadata: req.body.protocols[0].metadata },
                { memberId: 'm-1', groupInstanceId: null, metadata: other },
              ],
            },
      [ApiKey.SyncGroup]: (req) => ({
        errorCode: 0,
        protocolType: 'consumer',
        protocolName: 'range',
        assignment: req.body.assignments.find((a: any) => a.memberId === req.body.memberId).assignment,
      }),
    });
    const member = new GroupMember(c, membership);
    const assignment = await member.join();

    const joins = broker.requestsOf(ApiKey.JoinGroup);
    expect(joins.map((j) => j.body.memberId)).toEqual(['', 'm-2']);
    expect(joins[1].body.protocolType).toBe('consumer');
    expect(joins[1].body.protocols[0].name).toBe('range');
    expect(decodeSubscription(joins[1].body.protocols[0].metadata).topics).toEqual(['t']);

    const sync = broker.requestsOf(ApiKey.SyncGroup)[0].body;
    expect(sync.generationId).toBe(4);
    const plan = new Map(sync.assignments.map((a: any) => [a.memberId, decodeAssignment(a.assignment)]));
    // Range over sorted member ids: m-1 gets 0-2, m-2 gets 3-4; each written in its member's version.
    expect((plan.get('m-1') as any).assignedPartitions).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    expect((plan.get('m-1') as any).version).toBe(1);
    expect((plan.get('m-2') as any).assignedPartitions).toEqual([{ topic: 't', partitions: [3, 4] }]);
    expect(assignment).toEqual([{ topic: 't', partitions: [3, 4] }]);
    expect(member.isLeader).toBe(true);
  });

  it('as a follower sends no assignments and takes the one it is given', async () => {
    const c = await coordinator({
      [ApiKey.JoinGroup]: () => ({
        errorCode: 0,
        generationId: 2,
        protocolType: 'consumer',
        protocolName: 'range',
        leader: 'other',
        memberId: 'me',
        members: [],
      }),
      [ApiKey.SyncGroup]: () => ({ errorCode: 0, assignment: encodeAssignment({ assignedPartitions: [{ topic: 't', partitions: [1] }] }) }),
    });
    const member = new GroupMember(c, membership);
    expect(await member.join()).toEqual([{ topic: 't', partitions: [1] }]);
    expect(broker.requestsOf(ApiKey.SyncGroup)[0].body.assignments).toEqual([]);
    expect(broker.requestsOf(ApiKey.Metadata).length).toBe(0);
  });

  it('turns heartbeat errors into rejoin, and forgets its id when the membership is gone', async () => {
    let answer: number = ErrorCode.REBALANCE_IN_PROGRESS;
    const c = await coordinator({
      [ApiKey.JoinGroup]: () => ({ errorCode: 0, generationId: 2, protocolType: 'consumer', protocolName: 'range', leader: 'x', memberId: 'me', members: [] }),
      [ApiKey.SyncGroup]: () => ({ errorCode: 0, assignment: new Uint8Array(0) }),
      [ApiKey.Heartbeat]: () => ({ errorCode: answer }),
      [ApiKey.LeaveGroup]: () => ({ errorCode: 0, members: [{ memberId: 'me', groupInstanceId: null, errorCode: 0 }] }),
    });
    const member = new GroupMember(c, membership);
    expect(await member.join()).toEqual([]);
    expect(await member.heartbeat()).toBe('rejoin');
    expect(member.memberId).toBe('me');
    answer = ErrorCode.NONE;
    expect(await member.heartbeat()).toBe('ok');
    answer = ErrorCode.UNKNOWN_MEMBER_ID;
    expect(await member.heartbeat()).toBe('rejoin');
    expect(member.memberId).toBe('');
    await member.leave(); // nothing to leave any more
    expect(broker.requestsOf(ApiKey.LeaveGroup)).toHaveLength(0);
  });

  it('leaves with its member id', async () => {
    const c = await coordinator({
      [ApiKey.JoinGroup]: () => ({ errorCode: 0, generationId: 1, protocolType: 'consumer', protocolName: 'range', leader: 'x', memberId: 'me', members: [] }),
      [ApiKey.SyncGroup]: () => ({ errorCode: 0, assignment: new Uint8Array(0) }),
      [ApiKey.LeaveGroup]: () => ({ errorCode: 0, members: [{ memberId: 'me', groupInstanceId: null, errorCode: 0 }] }),
    });
    const member = new GroupMember(c, membership);
    await member.join();
    await member.leave();
    expect(broker.requestsOf(ApiKey.LeaveGroup)[0].body.members).toEqual([expect.objectContaining({ memberId: 'me' })]);
  });
});

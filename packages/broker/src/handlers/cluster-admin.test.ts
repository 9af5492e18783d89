// ElectLeaders, AlterPartitionReassignments and ListPartitionReassignments through the codec,
// answered as a single-broker KRaft Kafka answers them.

import { ErrorCode } from '@sluice/protocol';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { callHandler } from '../testing/call-handler.ts';
import { startTestBroker, type TestBroker } from '../testing/test-broker.ts';
import { alterPartitionReassignmentsHandler } from './alter-partition-reassignments.ts';
import { electLeadersHandler } from './elect-leaders.ts';
import { listPartitionReassignmentsHandler } from './list-partition-reassignments.ts';

let t: TestBroker;

beforeAll(() => {
  t = startTestBroker();
  t.broker.topicCreator.create('a', 2, 1, [], false);
});

afterAll(() => t.close());

describe('ElectLeaders', () => {
  test.each([0, 1, 2])('v%i: named partitions need no election; unknown ones are named in the error', async (version) => {
    const res = await callHandler(electLeadersHandler, t.broker, version, {
      electionType: 0,
      topicPartitions: [
        { topic: 'a', partitions: [0, 5] },
        { topic: 'nope', partitions: [1] },
      ],
      timeoutMs: 1000,
    });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    expect(res.replicaElectionResults).toEqual([
      {
        topic: 'a',
        partitionResult: [
          { partitionId: 0, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null },
          { partitionId: 5, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such partition as a-5' },
        ],
      },
      { topic: 'nope', partitionResult: [{ partitionId: 1, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'No such topic as nope' }] },
    ]);
  });

  test('every partition (null): none needs an election, so none is listed; unclean alike', async () => {
    const all = await callHandler(electLeadersHandler, t.broker, 2, { electionType: 1, topicPartitions: null, timeoutMs: 1000 });
    expect(all).toMatchObject({ errorCode: ErrorCode.NONE, replicaElectionResults: [] });
    const unclean = await callHandler(electLeadersHandler, t.broker, 2, {
      electionType: 1,
      topicPartitions: [{ topic: 'a', partitions: [1] }],
      timeoutMs: 1000,
    });
    expect(unclean.replicaElectionResults[0].partitionResult[0].errorCode).toBe(ErrorCode.ELECTION_NOT_NEEDED);
  });

  test('an unknown election type is INVALID_REQUEST', async () => {
    const res = await callHandler(electLeadersHandler, t.broker, 2, { electionType: 7, topicPartitions: null, timeoutMs: 1000 });
    expect(res.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('AlterPartitionReassignments', () => {
  test.each([0, 1])('v%i: Kafka checks and messages per partition; this broker alone completes at once', async (version) => {
    const partitions = (list: Array<[number, number[] | null]>) => list.map(([partitionIndex, replicas]) => ({ partitionIndex, replicas }));
    const res = await callHandler(alterPartitionReassignmentsHandler, t.broker, version, {
      timeoutMs: 1000,
      allowReplicationFactorChange: true,
      topics: [
        {
          name: 'a',
          partitions: partitions([
            [0, [1]],
            [1, null],
            [0, []],
            [1, [2]],
            [0, [1, 1]],
            [9, [1]],
          ]),
        },
        { name: 'nope', partitions: partitions([[0, [1]]]) },
      ],
    });
    expect(res.errorCode).toBe(ErrorCode.NONE);
    const outcomes = res.responses.flatMap((r: any) => r.partitions.map((p: any) => [p.errorCode, p.errorMessage]));
    expect(outcomes).toEqual([
      [ErrorCode.NONE, null],
      [ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, null],
      [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.'],
      [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 2, but no such broker is registered.'],
      [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes the broker 1 more than once.'],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'Unable to find partition a:9.'],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'Unable to find a topic named nope.'],
    ]);
    if (version >= 1) expect(res.allowReplicationFactorChange).toBe(true);
  });

  test('v1: with allowReplicationFactorChange false the replica count may not change', async () => {
    // One broker: a different count is already refused as an invalid assignment, so only an
    // empty list could reach the check; Kafka's order refuses that first too.
    const res = await callHandler(alterPartitionReassignmentsHandler, t.broker, 1, {
      timeoutMs: 1000,
      allowReplicationFactorChange: false,
      topics: [{ name: 'a', partitions: [{ partitionIndex: 0, replicas: [1] }] }],
    });
    expect(res.allowReplicationFactorChange).toBe(false);
    expect(res.responses[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
  });
});

describe('ListPartitionReassignments', () => {
  test('nothing is ever in progress, whatever is asked', async () => {
    for (const topics of [null, [{ name: 'a', partitionIndexes: [0] }], [{ name: 'nope', partitionIndexes: [0] }]]) {
      const res = await callHandler(listPartitionReassignmentsHandler, t.broker, 0, { timeoutMs: 1000, topics });
      expect(res).toMatchObject({ errorCode: ErrorCode.NONE, errorMessage: null, topics: [] });
    }
  });
});

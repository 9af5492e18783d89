import { describe, expect, it } from 'vitest';
import { ClientError } from './errors.ts';
import type { ClusterMetadata, PartitionInfo } from './kafka-client.ts';
import { groupBy, groupByLeader, groupByTopic } from './offsets.ts';

const partition = (index: number, leaderId: number): PartitionInfo => ({
  partition: index,
  errorCode: 0,
  leaderId,
  leaderEpoch: 0,
  replicas: [leaderId],
  isr: [leaderId],
  offline: [],
});

const md: ClusterMetadata = {
  clusterId: 'c',
  controllerId: 1,
  brokers: new Map(),
  topics: new Map([
    ['a', { name: 'a', topicId: '0'.repeat(32), errorCode: 0, isInternal: false, partitions: [partition(0, 1), partition(1, 2), partition(2, -1)] }],
    ['b', { name: 'b', topicId: '0'.repeat(32), errorCode: 0, isInternal: false, partitions: [partition(0, 2)] }],
  ]),
};

describe('grouping topic-partitions for requests', () => {
  it('keeps keys in first-seen order and each bucket in input order', () => {
    const items = [
      { topic: 'b', partition: 3 },
      { topic: 'a', partition: 1 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 0 },
    ];
    expect([...groupByTopic(items)]).toEqual([
      ['b', [items[0], items[2]]],
      ['a', [items[1], items[3]]],
    ]);
    expect([...groupBy([5, 2, 8, 1], (n) => n % 2)]).toEqual([
      [1, [5, 1]],
      [0, [2, 8]],
    ]);
  });

  it('groups by leader and refuses partitions without one', () => {
    const items = [
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
      { topic: 'a', partition: 1 },
    ];
    expect([...groupByLeader(md, items)]).toEqual([
      [1, [items[0]]],
      [2, [items[1], items[2]]],
    ]);
    expect(() => groupByLeader(md, [{ topic: 'a', partition: 2 }])).toThrow(/a-2 has no leader/);
    expect(() => groupByLeader(md, [{ topic: 'c', partition: 0 }])).toThrow(ClientError);
  });
});

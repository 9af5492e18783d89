// Kafka's RackAwareReplicaSelector rule (KIP-392): which replica a consumer in a rack reads from.

import { expect, test } from 'vitest';
import { selectRackAwareReplica } from './read-replica.ts';

const leader = { id: 1, rack: 'a', logEnd: 100 };

test('a client in a follower rack reads from the follower with the longest log there', () => {
  const followers = [
    { id: 2, rack: 'b', logEnd: 90 },
    { id: 3, rack: 'b', logEnd: 95 },
    { id: 4, rack: 'c', logEnd: 100 },
  ];
  expect(selectRackAwareReplica('b', leader, followers)).toBe(3);
  expect(selectRackAwareReplica('c', leader, followers)).toBe(4);
  // Ties go to the lowest id, so the choice is stable between fetches.
  expect(selectRackAwareReplica('b', leader, [followers[1]!, { id: 2, rack: 'b', logEnd: 95 }])).toBe(2);
});

test('the leader when the client has no rack, shares the leader rack, or no candidate is in its rack', () => {
  const followers = [{ id: 2, rack: 'a', logEnd: 100 }];
  expect(selectRackAwareReplica('', leader, followers)).toBe(1);
  expect(selectRackAwareReplica('a', leader, followers)).toBe(1);
  expect(selectRackAwareReplica('z', leader, followers)).toBe(1);
  expect(selectRackAwareReplica('z', leader, [])).toBe(1);
});

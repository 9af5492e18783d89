import { expect, test } from 'vitest';
import type { LiveBroker } from './cluster-view.ts';
import { electLeader, electPreferredLeader, electUncleanLeader, isUncleanElection, preferredRebalance, uncleanElectionEnabled } from './election.ts';
import type { PartitionState } from './keys.ts';

const live = (...pairs: Array<[number, number]>) =>
  new Map<number, LiveBroker>(
    pairs.map(([nodeId, epoch]) => [nodeId, { nodeId, epoch, listeners: [], rack: null, directoryId: `d${nodeId}`, registeredAt: 0 }]),
  );
const state = (leader: number, leaderEpoch: number, isr: Array<[number, number]>, partitionEpoch = 0): PartitionState => ({
  leader,
  leaderEpoch,
  isr: isr.map(([id, brokerEpoch]) => ({ id, brokerEpoch })),
  partitionEpoch,
});

test('nothing changes while the leader and the ISR are live', () => {
  expect(
    electLeader(
      state(1, 0, [
        [1, 10],
        [2, 11],
      ]),
      [1, 2],
      live([1, 10], [2, 11]),
    ),
  ).toBeNull();
});

test('a lost leader is replaced by the first live ISR member in replica order; epochs bumped, ISR shrunk', () => {
  const next = electLeader(
    state(
      1,
      4,
      [
        [1, 10],
        [3, 12],
        [2, 11],
      ],
      7,
    ),
    [1, 2, 3],
    live([2, 11], [3, 12]),
  );
  expect(next).toEqual(
    state(
      2,
      5,
      [
        [2, 11],
        [3, 12],
      ],
      8,
    ),
  );
});

test('a lost follower leaves the ISR without a leader epoch change', () => {
  expect(
    electLeader(
      state(
        1,
        4,
        [
          [1, 10],
          [2, 11],
        ],
        7,
      ),
      [1, 2],
      live([1, 10]),
    ),
  ).toEqual(state(1, 4, [[1, 10]], 8));
});

test('a restarted broker (new broker epoch) counts as failed: leader moves, it is out of the ISR', () => {
  expect(
    electLeader(
      state(1, 0, [
        [1, 10],
        [2, 11],
      ]),
      [1, 2],
      live([1, 20], [2, 11]),
    ),
  ).toEqual(state(2, 1, [[2, 11]], 1));
});

test('no live ISR member: no leader, the last ISR kept; the last-ISR broker coming back leads again in a new epoch', () => {
  const offline = electLeader(state(1, 2, [[1, 10]]), [1, 2], live([2, 11]));
  expect(offline).toEqual(state(-1, 3, [[1, 10]], 1));
  // An out-of-sync replica is never elected (no unclean election)...
  expect(electLeader(offline!, [1, 2], live([2, 11]))).toBeNull();
  // ...but the last ISR member restarting has everything committed.
  expect(electLeader(offline!, [1, 2], live([1, 30], [2, 11]))).toEqual(state(1, 4, [[1, 30]], 2));
});

test('preferred election: the first replica leads in a new epoch when live and in sync, else not available', () => {
  const isr: Array<[number, number]> = [
    [1, 10],
    [2, 11],
  ];
  expect(electPreferredLeader(state(2, 5, isr, 3), [1, 2], live([1, 10], [2, 11]))).toEqual({
    leader: 1,
    leaderEpoch: 6,
    isr: [
      { id: 1, brokerEpoch: 10 },
      { id: 2, brokerEpoch: 11 },
    ],
    partitionEpoch: 4,
  });
  expect(electPreferredLeader(state(1, 5, isr), [1, 2], live([1, 10], [2, 11]))).toBe('not needed');
  // Restarted (a new broker epoch) and not caught up yet, or not in the ISR at all.
  expect(electPreferredLeader(state(2, 5, isr), [1, 2], live([1, 12], [2, 11]))).toBe('not available');
  expect(electPreferredLeader(state(2, 5, [[2, 11]]), [1, 2], live([1, 10], [2, 11]))).toBe('not available');
});

test('automatic rebalance: a preferred replica leading too few of its partitions gets back those it can lead', () => {
  const brokers = live([1, 10], [2, 11], [3, 12]);
  const inSync: Array<[number, number]> = [
    [1, 10],
    [2, 11],
    [3, 12],
  ];
  const partitions = [
    // Broker 1 prefers three partitions and leads one: 67% not led, above 10%.
    { topic: 't', index: 0, replicas: [1, 2, 3], state: state(1, 0, inSync) },
    { topic: 't', index: 1, replicas: [1, 3, 2], state: state(2, 1, inSync) },
    {
      topic: 't',
      index: 2,
      replicas: [1, 2, 3],
      state: state(3, 1, [
        [3, 12],
        [2, 11],
      ]),
    }, // 1 out of sync: stays
    // Broker 2 leads all it prefers.
    { topic: 't', index: 3, replicas: [2, 3, 1], state: state(2, 0, inSync) },
  ];
  const moves = preferredRebalance(partitions, brokers, 10);
  expect(moves.map((m) => [m.index, m.next.leader, m.next.leaderEpoch])).toEqual([[1, 1, 2]]);
  // Within the allowed imbalance nothing moves.
  expect(preferredRebalance(partitions, brokers, 70)).toEqual([]);
});

test('unclean.leader.election.enable: with no ISR member live, the first live replica in replica order leads alone', () => {
  // ISR shrank to broker 1, which is gone; 3 and 2 are live but out of sync.
  const before = state(1, 4, [[1, 10]], 6);
  const next = electLeader(before, [1, 3, 2], live([2, 11], [3, 12]), true);
  expect(next).toEqual(state(3, 5, [[3, 12]], 7));
  expect(isUncleanElection(before, next!)).toBe(true);
  // From the leaderless state the controller left (config turned on later), the same choice.
  const offline = electLeader(before, [1, 3, 2], live([2, 11], [3, 12]))!;
  expect(offline.leader).toBe(-1);
  expect(electLeader(offline, [1, 3, 2], live([2, 11], [3, 12]), true)).toEqual(state(3, 6, [[3, 12]], 8));
  // No replica live: still no leader.
  expect(electLeader(offline, [1, 3, 2], live([4, 13]), true)).toBeNull();
});

test('unclean allowed changes nothing while an ISR member can lead: live ISR first, then a last-ISR broker back', () => {
  const isr: Array<[number, number]> = [
    [1, 10],
    [2, 11],
  ];
  // The leader is gone; 2 is in sync and live, 3 out of sync: the clean choice.
  const clean = electLeader(state(1, 0, isr), [3, 1, 2], live([2, 11], [3, 12]), true)!;
  expect(clean).toEqual(state(2, 1, [[2, 11]], 1));
  expect(isUncleanElection(state(1, 0, isr), clean)).toBe(false);
  // The last ISR member restarted (new broker epoch) beats an out-of-sync replica earlier in replica order.
  expect(electLeader(state(-1, 3, [[1, 10]]), [3, 1], live([1, 20], [3, 12]), true)).toEqual(state(1, 4, [[1, 20]], 1));
  // A live leader and ISR: nothing to do.
  expect(electLeader(state(1, 0, isr), [1, 2, 3], live([1, 10], [2, 11], [3, 12]), true)).toBeNull();
});

test('ElectLeaders UNCLEAN: not needed with a live leader, an out-of-sync replica without one, not available with no replica live', () => {
  const isr: Array<[number, number]> = [[1, 10]];
  expect(electUncleanLeader(state(1, 2, isr), [1, 2, 3], live([1, 10], [2, 11]))).toBe('not needed');
  expect(electUncleanLeader(state(-1, 3, isr), [1, 2, 3], live([2, 11], [3, 12]))).toEqual(state(2, 4, [[2, 11]], 1));
  // The recorded leader's registration is gone but the controller has not acted yet: elected all the same.
  expect(electUncleanLeader(state(1, 2, isr), [1, 2, 3], live([3, 12]))).toEqual(state(3, 3, [[3, 12]], 1));
  // Restarted leader (new broker epoch) is the last ISR member: it leads again, a clean choice.
  expect(electUncleanLeader(state(1, 2, isr), [1, 2, 3], live([1, 30], [2, 11]))).toEqual(state(1, 3, [[1, 30]], 1));
  expect(electUncleanLeader(state(-1, 3, isr), [1, 2, 3], live([4, 13]))).toBe('not available');
});

test("a topic's unclean.leader.election.enable override wins over the broker's value", () => {
  const topic = (configs: Record<string, boolean | string>) => ({ id: 'x', configs, replicas: [[1]] });
  expect(uncleanElectionEnabled(topic({}), false)).toBe(false);
  expect(uncleanElectionEnabled(topic({}), true)).toBe(true);
  expect(uncleanElectionEnabled(topic({ 'unclean.leader.election.enable': true }), false)).toBe(true);
  expect(uncleanElectionEnabled(topic({ 'unclean.leader.election.enable': false }), true)).toBe(false);
});

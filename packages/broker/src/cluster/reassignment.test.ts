// Partition reassignment's two decisions: what a request starts, and when the controller
// completes it.

import { describe, expect, test } from 'vitest';
import type { LiveBroker } from './cluster-view.ts';
import type { PartitionState } from './keys.ts';
import { completeReassignment, fullReplicaSet, startReassignment } from './reassignment.ts';

const live = (...ids: Array<[number, number]>): Map<number, LiveBroker> =>
  new Map(ids.map(([id, epoch]) => [id, { nodeId: id, epoch, listeners: [], rack: null, directoryId: `d${id}`, registeredAt: 0 }]));

const state = (leader: number, isr: Array<[number, number]>): PartitionState => ({
  leader,
  leaderEpoch: 3,
  isr: isr.map(([id, brokerEpoch]) => ({ id, brokerEpoch })),
  partitionEpoch: 7,
});

describe('startReassignment', () => {
  test('a new target keeps the original; the full replica set is target then the rest of the original', () => {
    const started = startReassignment([1, 2], undefined, [4, 2]);
    expect(started).toEqual({ target: [4, 2], original: [1, 2] });
    expect(fullReplicaSet(started as { target: number[]; original: number[] })).toEqual([4, 2, 1]);
  });

  test('the current replicas with nothing moving: nothing to do', () => {
    expect(startReassignment([1, 2], undefined, [1, 2])).toBeNull();
  });

  test('a second target keeps the first original; a cancellation targets the original', () => {
    const existing = { target: [4, 2], original: [1, 2] };
    expect(startReassignment([4, 2, 1], existing, [3, 2])).toEqual({ target: [3, 2], original: [1, 2] });
    expect(startReassignment([4, 2, 1], existing, null)).toEqual({ target: [1, 2], original: [1, 2] });
    expect(startReassignment([1, 2], undefined, null)).toBe('none in progress');
  });
});

describe('completeReassignment', () => {
  const record = { target: [4, 2], original: [1, 2] };

  test('waits while a target replica is not in the ISR, or is in it in an old broker epoch', () => {
    expect(
      completeReassignment(
        state(1, [
          [1, 10],
          [2, 20],
        ]),
        record,
        live([1, 10], [2, 20], [4, 40]),
      ),
    ).toBeNull();
    expect(
      completeReassignment(
        state(1, [
          [1, 10],
          [2, 20],
          [4, 39],
        ]),
        record,
        live([1, 10], [2, 20], [4, 40]),
      ),
    ).toBeNull();
  });

  test('once the target is in sync: removed replicas leave the ISR and a removed leader hands over in a new epoch', () => {
    const next = completeReassignment(
      state(1, [
        [1, 10],
        [2, 20],
        [4, 40],
      ]),
      record,
      live([1, 10], [2, 20], [4, 40]),
    );
    expect(next).toEqual({
      leader: 4,
      leaderEpoch: 4,
      isr: [
        { id: 2, brokerEpoch: 20 },
        { id: 4, brokerEpoch: 40 },
      ],
      partitionEpoch: 8,
    });
  });

  test('a leader that stays keeps its epoch', () => {
    const next = completeReassignment(
      state(2, [
        [1, 10],
        [2, 20],
        [4, 40],
      ]),
      record,
      live([1, 10], [2, 20], [4, 40]),
    );
    expect(next).toMatchObject({ leader: 2, leaderEpoch: 3, partitionEpoch: 8 });
  });
});

import { expect, test } from 'vitest';
import { assignReplicas, checkManualAssignment, rackAlternated } from './placement.ts';

const brokers = (...specs: Array<[number, string | null]>) => specs.map(([nodeId, rack]) => ({ nodeId, rack }));

test("replicas are distinct brokers, leaders spread evenly, followers shift every n partitions (Kafka's placement)", () => {
  const b = brokers([1, null], [2, null], [3, null]);
  const replicas = assignReplicas(b, 6, 3, { index: 0, shift: 0 });
  expect(replicas).toEqual([
    [1, 2, 3],
    [2, 3, 1],
    [3, 1, 2],
    [1, 3, 2],
    [2, 1, 3],
    [3, 2, 1],
  ]);
  for (const r of assignReplicas(b, 50, 2)) expect(new Set(r).size).toBe(2);
  const leaders = assignReplicas(b, 30, 1).map((r) => r[0]);
  for (const id of [1, 2, 3]) expect(leaders.filter((l) => l === id)).toHaveLength(10);
});

test('with racks, consecutive replicas of a partition land in different racks', () => {
  const b = brokers([1, 'a'], [2, 'a'], [3, 'b'], [4, 'b'], [5, 'c'], [6, 'c']);
  expect(rackAlternated(b).map((x) => x.nodeId)).toEqual([1, 3, 5, 2, 4, 6]);
  const rackOf = new Map(b.map((x) => [x.nodeId, x.rack]));
  for (const r of assignReplicas(b, 12, 3, { index: 0, shift: 0 })) expect(new Set(r.map((id) => rackOf.get(id))).size).toBe(3);
});

test('a replication factor above the broker count is a bug of the caller', () => {
  expect(() => assignReplicas(brokers([1, null]), 1, 2)).toThrow(/BUG/);
});

test("explicit assignments checked as Kafka's controller: replica lists by partition index, or the refusal", () => {
  const live = new Set([1, 2, 3]);
  const manual = (...lists: Array<[number, number[]]>) => lists.map(([partitionIndex, brokerIds]) => ({ partitionIndex, brokerIds }));
  expect(checkManualAssignment(manual([1, [3, 1]], [0, [1, 2]]), live)).toEqual([
    [1, 2],
    [3, 1],
  ]);
  expect(checkManualAssignment(manual([0, []]), live)).toBe('The manual partition assignment includes an empty replica list.');
  expect(checkManualAssignment(manual([0, [1, 1]]), live)).toBe('The manual partition assignment includes the broker 1 more than once.');
  expect(checkManualAssignment(manual([0, [4]]), live)).toBe('The manual partition assignment includes broker 4, but no such broker is registered.');
  expect(checkManualAssignment(manual([0, [1, 2]], [1, [3]]), live)).toBe(
    'The manual partition assignment includes a partition with 1 replica(s), but this is not consistent with previous partitions, which have 2 replica(s).',
  );
  expect(checkManualAssignment(manual([0, [1]], [0, [2]]), live)).toBe('Found multiple manual partition assignments for partition 0');
  expect(checkManualAssignment(manual([1, [1]]), live)).toBe('partitions should be a consecutive 0-based integer sequence');
});

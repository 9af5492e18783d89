import { describe, expect, it } from 'vitest';
import { assignRange, type AssignorMember } from './range-assignor.ts';

const member = (memberId: string, topics: string[], groupInstanceId: string | null = null): AssignorMember => ({
  memberId,
  groupInstanceId,
  topics,
});

describe('range assignor', () => {
  it('gives the first members the extra partitions: 7 over 3 is 3/2/2', () => {
    const out = assignRange([member('c', ['t']), member('a', ['t']), member('b', ['t'])], new Map([['t', 7]]));
    expect(out.get('a')).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    expect(out.get('b')).toEqual([{ topic: 't', partitions: [3, 4] }]);
    expect(out.get('c')).toEqual([{ topic: 't', partitions: [5, 6] }]);
  });

  it('assigns each topic independently, so the same members lead every topic', () => {
    const members = [member('m1', ['x', 'y']), member('m2', ['x', 'y'])];
    const out = assignRange(
      members,
      new Map([
        ['x', 3],
        ['y', 3],
      ]),
    );
    expect(out.get('m1')).toEqual([
      { topic: 'x', partitions: [0, 1] },
      { topic: 'y', partitions: [0, 1] },
    ]);
    expect(out.get('m2')).toEqual([
      { topic: 'x', partitions: [2] },
      { topic: 'y', partitions: [2] },
    ]);
  });

  it('only counts subscribers of the topic, and leaves members with no partitions empty', () => {
    const out = assignRange(
      [member('a', ['x']), member('b', ['x', 'y']), member('c', ['x'])],
      new Map([
        ['x', 2],
        ['y', 1],
      ]),
    );
    expect(out.get('a')).toEqual([{ topic: 'x', partitions: [0] }]);
    expect(out.get('b')).toEqual([
      { topic: 'x', partitions: [1] },
      { topic: 'y', partitions: [0] },
    ]);
    expect(out.get('c')).toEqual([]);
  });

  it('orders static members first, by instance id', () => {
    const out = assignRange([member('a', ['t']), member('z', ['t'], 'i2'), member('y', ['t'], 'i1')], new Map([['t', 3]]));
    expect(out.get('y')).toEqual([{ topic: 't', partitions: [0] }]);
    expect(out.get('z')).toEqual([{ topic: 't', partitions: [1] }]);
    expect(out.get('a')).toEqual([{ topic: 't', partitions: [2] }]);
  });

  it('skips topics the cluster does not know and ignores duplicate subscriptions', () => {
    const out = assignRange([member('a', ['t', 't', 'gone'])], new Map([['t', 2]]));
    expect(out.get('a')).toEqual([{ topic: 't', partitions: [0, 1] }]);
  });

  it('covers every partition exactly once for any member count', () => {
    for (let n = 1; n <= 9; n++) {
      const members = Array.from({ length: n }, (_, i) => member(`m${i}`, ['t']));
      const out = assignRange(members, new Map([['t', 10]]));
      const all = [...out.values()].flatMap((tps) => tps.flatMap((tp) => tp.partitions)).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 10 }, (_, i) => i));
    }
  });
});

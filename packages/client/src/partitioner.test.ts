import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey, StickyPartitioner } from './partitioner.ts';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("Kafka's murmur2", () => {
  // Expected values from Kafka's own UtilsTest (clients/.../common/utils/UtilsTest.java), which
  // cover every tail length (0-3 bytes after the 4-byte words).
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%j) = %d', (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  it('picks partitions as the Java default partitioner: positive hash modulo count', () => {
    // murmur2('foobar') = -790332482; & 0x7fffffff = 1357151166; % 7 = 1357151166 - 7*193878738 = 0
    expect(partitionForKey(utf8('foobar'), 7)).toBe(1357151166 % 7);
    expect(partitionForKey(utf8('abc'), 10)).toBe(479470107 % 10);
  });
});

describe('sticky partitioner', () => {
  it('stays on one partition until a batch closes, then moves to a different one', () => {
    const rolls = [0.5, 0.0, 0.99];
    const p = new StickyPartitioner(() => rolls.shift()!);
    expect(p.partition(4)).toBe(2);
    expect(p.partition(4)).toBe(2);
    p.batchClosed(1, 4); // another partition's batch: no move
    expect(p.partition(4)).toBe(2);
    p.batchClosed(2, 4);
    expect(p.partition(4)).toBe(0);
    p.batchClosed(0, 4);
    expect(p.partition(4)).toBe(3);
  });

  it('never moves off the only partition', () => {
    const p = new StickyPartitioner(() => 0.7);
    expect(p.partition(1)).toBe(0);
    p.batchClosed(0, 1);
    expect(p.partition(1)).toBe(0);
  });
});

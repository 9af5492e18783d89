import { describe, expect, test } from 'vitest';
import { type PendingOffset, PendingTxnOffsets } from './pending-offsets.ts';

const offset = (topic: string, partition: number, value: number, logOffset: number): PendingOffset => ({
  topic,
  partition,
  offset: value,
  leaderEpoch: -1,
  metadata: '',
  commitTimestamp: 1000,
  logOffset,
});

describe('PendingTxnOffsets', () => {
  test('staged offsets are pending until the transaction ends; COMMIT returns them', () => {
    const p = new PendingTxnOffsets();
    p.stage('etl', 4000, offset('in', 0, 42, 10));
    p.stage('etl', 4000, offset('in', 1, 7, 10));
    expect(p.isPending('etl', 'in', 0)).toBe(true);
    expect(p.isPending('etl', 'in', 2)).toBe(false);
    expect(p.isPending('other', 'in', 0)).toBe(false);
    expect(p.groupsOf(4000)).toEqual(['etl']);
    expect(p.complete('etl', 4000, 'COMMIT').map((o) => [o.partition, o.offset])).toEqual([
      [0, 42],
      [1, 7],
    ]);
    expect(p.isPending('etl', 'in', 0)).toBe(false);
    expect(p.hasPending('etl')).toBe(false);
    expect(p.size).toBe(0);
  });

  test('ABORT drops them', () => {
    const p = new PendingTxnOffsets();
    p.stage('etl', 4000, offset('in', 0, 42, 10));
    expect(p.complete('etl', 4000, 'ABORT')).toEqual([]);
    expect(p.isPending('etl', 'in', 0)).toBe(false);
    expect(p.complete('etl', 4000, 'COMMIT')).toEqual([]); // nothing left: a retry applies nothing
  });

  test('producers are independent; a later commit in the same transaction replaces an earlier one', () => {
    const p = new PendingTxnOffsets();
    p.stage('etl', 1, offset('in', 0, 10, 5));
    p.stage('etl', 1, offset('in', 0, 20, 6));
    p.stage('etl', 1, offset('in', 0, 15, 4)); // older in the log: ignored
    p.stage('etl', 2, offset('in', 0, 99, 7));
    expect(p.complete('etl', 2, 'ABORT')).toEqual([]);
    expect(p.isPending('etl', 'in', 0)).toBe(true);
    expect(p.complete('etl', 1, 'COMMIT').map((o) => o.offset)).toEqual([20]);
  });

  test('on COMMIT a plain commit newer in the log wins (last write in log order)', () => {
    const p = new PendingTxnOffsets();
    p.stage('etl', 1, offset('in', 0, 10, 5));
    p.stage('etl', 1, offset('in', 1, 11, 5));
    const committed = new Map([
      ['in:0', 8], // a plain commit after the transactional one
      ['in:1', 3], // before it
    ]);
    const applied = p.complete('etl', 1, 'COMMIT', (t, part) => committed.get(`${t}:${part}`));
    expect(applied.map((o) => o.partition)).toEqual([1]);
  });

  test('dropGroup forgets everything the group staged', () => {
    const p = new PendingTxnOffsets();
    p.stage('etl', 1, offset('in', 0, 10, 5));
    p.stage('other', 1, offset('in', 0, 10, 5));
    p.dropGroup('etl');
    expect(p.groupsOf(1)).toEqual(['other']);
  });

  test('staging without a producer id is a bug', () => {
    expect(() => new PendingTxnOffsets().stage('etl', -1, offset('in', 0, 1, 1))).toThrow(/BUG/);
  });
});

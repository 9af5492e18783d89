// The checker on hand-made histories: a clean one reports nothing; each planted anomaly is
// reported in its class and only there.

import { describe, expect, test } from 'vitest';
import { type AnomalyClass, check, type HistoryEvent } from './checker.ts';

/** Producer 1 sends p1-0..p1-(n-1) to partition 0, all acknowledged at offsets 0..n-1, read back. */
function clean(n: number): HistoryEvent[] {
  const h: HistoryEvent[] = [];
  for (let i = 0; i < n; i++) {
    const value = `p1-${i}`;
    h.push({ f: 'send', t: i, producer: 1, partition: 0, value });
    h.push({ f: 'ack', t: i + 0.5, producer: 1, partition: 0, value, offset: i });
    h.push({ f: 'read', t: i + 0.7, reader: 1, partition: 0, offset: i, value });
  }
  for (let i = 0; i < n; i++) h.push({ f: 'final', t: 1000, partition: 0, offset: i, value: `p1-${i}` });
  return h;
}

function only(h: HistoryEvent[], cls: AnomalyClass, n = 1) {
  const r = check(h);
  const others = Object.entries(r.counts).filter(([c, v]) => c !== cls && v > 0);
  expect(others).toEqual([]);
  expect(r.counts[cls]).toBe(n);
  expect(r.anomalies).toBe(n);
  return r;
}

const replaceFinal = (h: HistoryEvent[], fn: (finals: HistoryEvent[]) => HistoryEvent[]) => [
  ...h.filter((e) => e.f !== 'final'),
  ...fn(h.filter((e) => e.f === 'final')),
];

describe('checker', () => {
  test('a clean history has no anomaly', () => {
    const r = check(clean(10));
    expect(r.anomalies).toBe(0);
    expect(r).toMatchObject({ acknowledged: 10, finalRecords: 10, polledRecords: 10, indeterminate: 0 });
  });

  test('an indeterminate send found or not found is no anomaly', () => {
    const h = clean(3);
    h.push({ f: 'send', t: 10, producer: 1, partition: 0, value: 'p1-3' }, { f: 'fail', t: 11, producer: 1, partition: 0, value: 'p1-3', error: 'timeout' });
    h.push({ f: 'send', t: 12, producer: 1, partition: 0, value: 'p1-4' }, { f: 'fail', t: 13, producer: 1, partition: 0, value: 'p1-4', error: 'timeout' });
    h.push({ f: 'final', t: 1000, partition: 0, offset: 3, value: 'p1-4' });
    const r = check(h);
    expect(r.anomalies).toBe(0);
    expect(r).toMatchObject({ indeterminate: 2, indeterminateFound: 1 });
  });

  test('a lost acknowledged write (the log truncated under it)', () => {
    const h = replaceFinal(clean(5), (f) => f.slice(0, 4));
    const r = only(h, 'lostAcknowledged');
    expect(r.examples.lostAcknowledged[0]).toContain('p1-4');
  });

  test('a duplicate', () => {
    const h = clean(3);
    h.push({ f: 'final', t: 1000, partition: 0, offset: 3, value: 'p1-2' });
    // p1-2 after p1-2 is also out of sequence: a duplicate is a repeat, which the order check sees too.
    const r = check(h);
    expect(r.counts.duplicates).toBe(1);
    expect(r.counts.reordered).toBe(1);
    expect(r.anomalies).toBe(2);
  });

  test('reordering within a partition', () => {
    const h = replaceFinal(clean(3), () => [
      { f: 'final', t: 1000, partition: 0, offset: 0, value: 'p1-0' },
      { f: 'final', t: 1000, partition: 0, offset: 1, value: 'p1-2' },
      { f: 'final', t: 1000, partition: 0, offset: 2, value: 'p1-1' },
    ]);
    const r = check(h.filter((e) => e.f !== 'ack' && e.f !== 'read'));
    expect(r.counts.reordered).toBe(1);
    expect(r.anomalies).toBe(1);
  });

  test('an offset that changed meaning: a poll saw another value there than the final read', () => {
    const h = clean(3);
    h.push({ f: 'send', t: 20, producer: 2, partition: 0, value: 'p2-0' }, { f: 'fail', t: 21, producer: 2, partition: 0, value: 'p2-0', error: 'x' });
    h.push({ f: 'read', t: 22, reader: 2, partition: 0, offset: 2, value: 'p2-0' });
    only(h, 'inconsistentOffsets');
  });

  test('an acknowledged offset whose record is elsewhere', () => {
    const h = clean(3).map((e) => (e.f === 'ack' && e.value === 'p1-2' ? { ...e, offset: 7 } : e));
    const r = check(h);
    expect(r.counts.movedAcknowledged).toBe(1);
    expect(r.anomalies).toBe(1);
  });

  test('polls going backwards, polls skipping offsets', () => {
    const back = clean(3);
    back.push({ f: 'read', t: 50, reader: 1, partition: 0, offset: 1, value: 'p1-1' });
    only(back, 'nonMonotonicPolls');
    const skip = clean(4).filter((e) => !(e.f === 'read' && e.offset === 2));
    only(skip, 'skippedOffsets');
  });

  test('a gap in the final read; a value nobody sent', () => {
    only(
      replaceFinal(clean(4), (f) => f.filter((e) => e.f === 'final' && e.offset !== 1)).filter((e) => !(e.f === 'ack' && e.value === 'p1-1')),
      'skippedOffsets',
    );
    const h = clean(2);
    h.push({ f: 'final', t: 1000, partition: 0, offset: 2, value: 'garbage' });
    only(h, 'unknownValues');
  });
});

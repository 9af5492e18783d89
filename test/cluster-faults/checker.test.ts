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

describe('checker: consumer group', () => {
  /** clean(6) plus consumer 1 reading offsets 0..5 in one session, committing 3 then 6. */
  function group(): HistoryEvent[] {
    const h = clean(6);
    h.push({ f: 'join', t: 100, consumer: 1, session: 1 });
    for (let i = 0; i < 6; i++) h.push({ f: 'gpoll', t: 101 + i, consumer: 1, session: 1, partition: 0, offset: i, value: `p1-${i}` });
    h.push({ f: 'commit', t: 104, sent: 103.5, consumer: 1, partition: 0, offset: 3, ok: true });
    h.push({ f: 'commit', t: 108, sent: 107, consumer: 1, partition: 0, offset: 6, ok: true });
    h.push({ f: 'committed', t: 120, sent: 119, partition: 0, offset: 6, final: true });
    return h;
  }

  test('a clean group history has no anomaly; a rejoin may read again from the committed offset', () => {
    const h = group();
    // Consumer 2 joins and starts at 5: no acknowledged commit said 5, but one was sent (its answer lost).
    h.push({ f: 'join', t: 100.5, consumer: 2, session: 1 });
    h.push({ f: 'gpoll', t: 111, consumer: 2, session: 1, partition: 0, offset: 5, value: 'p1-5' });
    h.push({ f: 'commit', t: 109, sent: 100, consumer: 1, partition: 0, offset: 5, ok: false });
    const r = check(h);
    expect(r.anomalies).toBe(0);
    expect(r.workloads).toMatchObject({ groupPolls: 7, commits: 2 });
  });

  test('a commit acknowledged, then the committed offset read lower', () => {
    const h = group().map((e) => (e.f === 'committed' ? { ...e, offset: 3 } : e));
    const r = only(h, 'committedOffsetsBackwards');
    expect(r.examples.committedOffsetsBackwards[0]).toContain('final OffsetFetch of 3');
  });

  test('a commit sent after another was acknowledged, lower than it', () => {
    const h = group();
    h.push({ f: 'commit', t: 112, sent: 111, consumer: 2, partition: 0, offset: 4, ok: true });
    // The commit of 4 is reported; the final OffsetFetch's 6 is not below the highest acknowledged commit (6).
    only(h, 'committedOffsetsBackwards');
  });

  test('a consumer polling backwards within a session; the same offset with two values across consumers', () => {
    const back = group();
    back.push({ f: 'gpoll', t: 107.5, consumer: 1, session: 1, partition: 0, offset: 2, value: 'p1-2' });
    only(back, 'groupNonMonotonicPolls');
    const two = group();
    two.push({ f: 'join', t: 110, consumer: 2, session: 1 });
    // Consumer 2 reads offset 3 as p1-4 (consumer 1 and the final read have p1-3 there).
    two.push({ f: 'gpoll', t: 111, consumer: 2, session: 1, partition: 0, offset: 3, value: 'p1-4' });
    two.push({ f: 'commit', t: 110.5, sent: 110.2, consumer: 1, partition: 0, offset: 3, ok: false });
    only(two, 'inconsistentOffsets');
  });

  test('a batch kafkajs fetched from a stale position after a rejoin is counted apart; a rewind without that evidence is not', () => {
    // Consumer 1 rejoins (session 2) with 4 committed while it had read up to 5: a Fetch sent in
    // session 1 from 5 answers first, then the new generation's Fetch from 4 (the committed offset).
    const rejoin = (fetchedAgain: number | undefined, fiveAcknowledged = false) => {
      const h = group().filter((e) => !(e.f === 'commit' && e.offset === 6) && !(e.f === 'committed'));
      h.push({ f: 'commit', t: 106, sent: 105.5, consumer: 1, partition: 0, offset: 4, ok: true });
      h.push({ f: 'commit', t: 109, sent: 107, consumer: 1, partition: 0, offset: 5, ok: fiveAcknowledged });
      h.push({ f: 'join', t: 110, consumer: 1, session: 2 });
      h.push({ f: 'gpoll', t: 111, consumer: 1, session: 2, partition: 0, offset: 5, value: 'p1-5', fetched: 5 });
      h.push({ f: 'gpoll', t: 112, consumer: 1, session: 2, partition: 0, offset: 4, value: 'p1-4', fetched: fetchedAgain });
      h.push({ f: 'gpoll', t: 112, consumer: 1, session: 2, partition: 0, offset: 5, value: 'p1-5', fetched: fetchedAgain });
      h.push({ f: 'committed', t: 120, sent: 119, partition: 0, offset: 6, final: true });
      return h;
    };
    const r = check(rejoin(4));
    expect(r.anomalies).toBe(0);
    expect(r.workloads.kafkajsStaleBatches).toBe(1);
    // No fetch offset recorded: the rewind stays an anomaly.
    only(rejoin(undefined), 'groupNonMonotonicPolls');
    // The commit of 5 acknowledged before the rejoin: a Fetch from 4 is below where the session may start, an anomaly.
    only(rejoin(4, true), 'groupNonMonotonicPolls');
  });

  test('skipped offsets: a gap within a session, a session starting past the commit, an offset below the final commit nobody polled', () => {
    const gap = group().filter((e) => !(e.f === 'gpoll' && e.offset === 4));
    // the gap within the session, and offset 4 never polled by the group
    only(gap, 'groupSkippedOffsets', 2);
    const late = group();
    late.push({ f: 'join', t: 110, consumer: 2, session: 1 });
    late.push({ f: 'gpoll', t: 111, consumer: 2, session: 1, partition: 0, offset: 8, value: 'p1-5' });
    const r = check(late);
    expect(r.counts.groupSkippedOffsets).toBe(1);
    expect(r.examples.groupSkippedOffsets[0]).toContain('started at 8, the committed offset was 6');
  });
});

describe('checker: transactions', () => {
  function txns(): HistoryEvent[] {
    return [
      {
        f: 'txn',
        t: 1,
        id: 't1-0',
        records: [
          { partition: 0, value: 't1-0-0' },
          { partition: 1, value: 't1-0-1' },
        ],
        outcome: 'committed',
      },
      { f: 'txn', t: 2, id: 't1-1', records: [{ partition: 0, value: 't1-1-0' }], outcome: 'aborted' },
      { f: 'txn', t: 3, id: 't1-2', records: [{ partition: 1, value: 't1-2-0' }], outcome: 'indeterminate' },
      { f: 'tread', t: 4, reader: 1, partition: 0, offset: 0, value: 't1-0-0' },
      { f: 'tread', t: 4, reader: 1, partition: 1, offset: 0, value: 't1-0-1' },
      { f: 'tfinal', t: 9, partition: 0, offset: 0, value: 't1-0-0', state: 'committed', visible: true },
      { f: 'tfinal', t: 9, partition: 1, offset: 0, value: 't1-0-1', state: 'committed', visible: true },
      { f: 'tfinal', t: 9, partition: 0, offset: 2, value: 't1-1-0', state: 'aborted', visible: false },
      { f: 'tfinal', t: 9, partition: 1, offset: 2, value: 't1-2-0', state: 'aborted', visible: false },
    ];
  }

  test('clean: committed visible, aborted and indeterminate-then-aborted hidden', () => {
    const r = check(txns());
    expect(r.anomalies).toBe(0);
    expect(r.workloads.transactions).toEqual({ committed: 1, aborted: 1, indeterminate: 1 });
  });

  test('an aborted record seen by read_committed', () => {
    const h = txns();
    h.push({ f: 'tread', t: 5, reader: 1, partition: 0, offset: 2, value: 't1-1-0' });
    only(h, 'abortedVisible');
  });

  test("an aborted record handed over by kafkajs's consumer is counted apart (its filtering defect), not an anomaly", () => {
    const h = txns();
    h.push({ f: 'tread', t: 5, reader: 1, partition: 0, offset: 2, value: 't1-1-0', client: 'kafkajs' });
    const r = check(h);
    expect(r.anomalies).toBe(0);
    expect(r.workloads.kafkajsAbortedVisible).toBe(1);
  });

  test('a transaction partly visible', () => {
    const h = txns().map((e) => (e.f === 'tfinal' && e.value === 't1-0-1' ? { ...e, visible: false } : e));
    only(h, 'partialTransaction');
  });

  test('a committed transaction missing (its records open: the last stable offset held back)', () => {
    const h = txns().map((e) => (e.f === 'tfinal' && e.value.startsWith('t1-0') ? { ...e, state: 'open' as const, visible: false } : e));
    only(h, 'committedMissing');
    expect(check(h).workloads.openTransactionRecords).toBe(2);
  });
});

describe('checker: list-append', () => {
  function appends(): HistoryEvent[] {
    return [
      { f: 'append', t: 1, key: 'k0', value: 'a1-0', offset: 0 },
      { f: 'append', t: 2, key: 'k0', value: 'a2-0', offset: 1 },
      { f: 'append', t: 3, key: 'k0', value: 'a1-2', offset: null },
      { f: 'aread', t: 4, reader: 1, key: 'k0', index: 0, value: 'a1-0' },
      { f: 'aread', t: 5, reader: 1, key: 'k0', index: 1, value: 'a2-0' },
      { f: 'afinal', t: 9, key: 'k0', values: ['a1-0', 'a2-0'] },
    ];
  }

  test('clean: every read a prefix of the final list, an indeterminate append absent', () => {
    const r = check(appends());
    expect(r.anomalies).toBe(0);
    expect(r.workloads).toMatchObject({ appends: 3, appendReads: 2 });
  });

  test('a read contradicting the order of the final list', () => {
    const h = appends().map((e) => (e.f === 'aread' ? { ...e, index: 1 - e.index } : e));
    only(h, 'appendOrderViolation', 2);
  });

  test('an acknowledged append lost', () => {
    const h = appends().map((e) => (e.f === 'afinal' ? { ...e, values: ['a1-0'] } : e));
    // reader 1's second element is then beyond the final list: an order violation too
    const r = check(h);
    expect(r.counts.appendLost).toBe(1);
    expect(r.counts.appendOrderViolation).toBe(1);
    expect(r.anomalies).toBe(2);
  });
});

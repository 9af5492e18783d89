// DelayedOperations on a ManualClock and a hand-run defer queue: completion on a check, on the
// timeout, forced, exactly once, and the coalescing of checkSoon.

import { describe, expect, test } from 'vitest';
import { ManualClock } from '../testing/manual-clock.ts';
import { type Completion, type DelayedOperation, DelayedOperations } from './delayed-operations.ts';

/** An operation that completes once `ready` is set; it records its checks and completions. */
class Waiter implements DelayedOperation {
  ready = false;
  checks = 0;
  readonly completions: Completion[] = [];

  tryComplete(): boolean {
    this.checks++;
    return this.ready;
  }

  onComplete(completion: Completion): void {
    this.completions.push(completion);
  }
}

function setup() {
  const clock = new ManualClock();
  const deferred: Array<() => void> = [];
  const ops = new DelayedOperations<string>({ clock, defer: (fn) => deferred.push(fn) });
  const runDeferred = () => {
    for (const fn of deferred.splice(0)) fn();
  };
  return { clock, ops, deferred, runDeferred };
}

describe('DelayedOperations', () => {
  test('an operation whose condition already holds completes at once and is not watched', () => {
    const { clock, ops } = setup();
    const w = new Waiter();
    w.ready = true;
    expect(ops.tryCompleteElseWatch(w, ['p0'], 1000)).toBe(true);
    expect(w.completions).toEqual(['satisfied']);
    expect(ops.size).toBe(0);
    expect(ops.watching('p0')).toBe(0);
    expect(clock.timerCount).toBe(0);
  });

  test('a watched operation completes when a check of its key finds it ready, not on other keys', () => {
    const { clock, ops } = setup();
    const w = new Waiter();
    expect(ops.tryCompleteElseWatch(w, ['p0'], 1000)).toBe(false);
    expect(ops.size).toBe(1);
    expect(ops.checkAndComplete('p0')).toBe(0); // checked, not ready
    w.ready = true;
    expect(ops.checkAndComplete('p1')).toBe(0); // not watched there
    expect(w.completions).toEqual([]);
    expect(ops.checkAndComplete('p0')).toBe(1);
    expect(w.completions).toEqual(['satisfied']);
    expect(ops.size).toBe(0);
    expect(clock.timerCount).toBe(0); // its timeout was cancelled
    clock.advance(5000);
    expect(w.completions).toEqual(['satisfied']);
  });

  test('an operation nobody completes expires after its timeout, exactly then', () => {
    const { clock, ops } = setup();
    const w = new Waiter();
    ops.watch(w, ['p0'], 500);
    clock.advance(499);
    expect(w.completions).toEqual([]);
    clock.advance(1);
    expect(w.completions).toEqual(['expired']);
    expect(ops.size).toBe(0);
    expect(ops.watching('p0')).toBe(0);
    // A later check does not reach it again.
    w.ready = true;
    expect(ops.checkAndComplete('p0')).toBe(0);
    expect(w.completions).toEqual(['expired']);
  });

  test('watch() does not check first; tryCompleteElseWatch() does', () => {
    const { ops } = setup();
    const w = new Waiter();
    w.ready = true;
    expect(ops.watch(w, ['p0'], 1000)).toBe(false);
    expect(w.checks).toBe(0);
    expect(ops.checkAndComplete('p0')).toBe(1);
    expect(w.checks).toBe(1);
  });

  test('an operation under several keys completes once and leaves every key', () => {
    const { ops } = setup();
    const w = new Waiter();
    ops.watch(w, ['p0', 'p1', 'p0'], 1000);
    expect(ops.watching('p0')).toBe(1);
    expect(ops.watching('p1')).toBe(1);
    w.ready = true;
    expect(ops.checkAndComplete('p1')).toBe(1);
    expect(ops.checkAndComplete('p0')).toBe(0);
    expect(w.completions).toEqual(['satisfied']);
    expect(ops.watching('p0')).toBe(0);
    expect(ops.watching('p1')).toBe(0);
  });

  test('checkSoon coalesces: every marked key in a turn checks each watching operation once, after the turn', () => {
    const { ops, deferred, runDeferred } = setup();
    const a = new Waiter();
    const b = new Waiter();
    ops.watch(a, ['p0', 'p1'], 1000);
    ops.watch(b, ['p1'], 1000);
    for (let i = 0; i < 10; i++) ops.checkSoon('p0');
    ops.checkSoon('p1');
    expect(deferred).toHaveLength(1);
    expect(a.checks + b.checks).toBe(0); // nothing checked inside the turn
    b.ready = true;
    runDeferred();
    expect(a.checks).toBe(1);
    expect(b.checks).toBe(1);
    expect(b.completions).toEqual(['satisfied']);
    expect(a.completions).toEqual([]);
    // The next mark schedules a new check.
    a.ready = true;
    ops.checkSoon('p0');
    runDeferred();
    expect(a.completions).toEqual(['satisfied']);
  });

  test('checkSoon on a key nobody watches schedules nothing', () => {
    const { ops, deferred } = setup();
    ops.checkSoon('p0');
    expect(deferred).toHaveLength(0);
  });

  test('completeAll forces every waiting operation; after shutdown new ones complete at once', () => {
    const { clock, ops } = setup();
    const a = new Waiter();
    const b = new Waiter();
    ops.watch(a, ['p0'], 1000);
    ops.watch(b, ['p1'], 1000);
    expect(ops.completeAll()).toBe(2);
    expect(a.completions).toEqual(['forced']);
    expect(b.completions).toEqual(['forced']);
    expect(clock.timerCount).toBe(0);
    const c = new Waiter();
    ops.watch(c, ['p0'], 1000); // not shut down: it waits
    ops.shutdown();
    expect(c.completions).toEqual(['forced']);
    const late = new Waiter();
    expect(ops.tryCompleteElseWatch(late, ['p0'], 1000)).toBe(true);
    expect(late.checks).toBe(0);
    expect(late.completions).toEqual(['forced']);
    expect(ops.size).toBe(0);
  });

  test('an operation may watch a new one from its completion (re-entrancy)', () => {
    const { clock, ops } = setup();
    const second = new Waiter();
    const first: DelayedOperation = {
      tryComplete: () => true,
      onComplete: () => void ops.watch(second, ['p0'], 100),
    };
    ops.watch(first, ['p0'], 1000);
    expect(ops.checkAndComplete('p0')).toBe(1);
    expect(ops.watching('p0')).toBe(1);
    clock.advance(100);
    expect(second.completions).toEqual(['expired']);
  });
});

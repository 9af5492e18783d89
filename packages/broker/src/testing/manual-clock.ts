// A Clock that moves only when told to, for deterministic tests (group coordinator, delayed
// operations): `advance(ms)` runs every timer that falls due in that window, in deadline order
// (ties in scheduling order), including timers scheduled by the timers it runs.

import type { Clock, TimerHandle } from '../clock.ts';

interface ManualTimer {
  readonly id: number;
  readonly deadline: number;
  readonly fn: () => void;
}

export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private readonly pending = new Map<number, ManualTimer>();

  constructor(startMs = 1_700_000_000_000) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fn: () => void): TimerHandle {
    const timer = { id: this.nextId++, deadline: this.current + Math.max(delayMs, 0), fn };
    this.pending.set(timer.id, timer);
    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  /** Number of timers not yet run. */
  get timerCount(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, running each timer as its deadline is reached. */
  advance(ms: number): void {
    if (ms < 0) throw new Error('ManualClock cannot go backwards');
    const target = this.current + ms;
    for (;;) {
      let due: ManualTimer | undefined;
      for (const timer of this.pending.values()) {
        if (timer.deadline > target) continue;
        if (due === undefined || timer.deadline < due.deadline || (timer.deadline === due.deadline && timer.id < due.id)) due = timer;
      }
      if (due === undefined) break;
      this.pending.delete(due.id);
      this.current = due.deadline;
      due.fn();
    }
    this.current = target;
  }
}

// Time: the current time and one-shot timers, behind an interface so the group coordinator's and
// the delayed operations' tests run on a manual clock (testing/manual-clock.ts) and never sleep.
//
// KeyedTimers gives timers names, as Kafka's coordinator timer does ("heartbeat-<group>-<member>",
// "join-<group>", "sync-<group>"): scheduling a key replaces whatever was scheduled under it, so a
// heartbeat simply pushes its member's expiry forward.
//
// Concurrency: event loop only.

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `delayMs`; the timer must not keep the process alive. */
  setTimer(delayMs: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

// setTimeout fires at once for delays above 2^31-1 ms; longer delays are clamped and re-armed.
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Wall-clock time and unref'd Node timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(delayMs, fn) {
    const timer = setTimeout(fn, Math.min(Math.max(delayMs, 0), MAX_TIMEOUT_MS));
    timer.unref();
    return timer;
  },
  clearTimer(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** Named one-shot timers on a Clock; at most one timer per key. */
export class KeyedTimers {
  private readonly clock: Clock;
  private readonly timers = new Map<string, TimerHandle>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Schedules `fn` under `key`, replacing any timer already scheduled under it. */
  schedule(key: string, delayMs: number, fn: () => void): void {
    this.cancel(key);
    const handle = this.clock.setTimer(delayMs, () => {
      // Only the timer still registered under the key may run (a replaced one was cleared, but
      // a clock may already have dequeued it).
      if (this.timers.get(key) !== handle) return;
      this.timers.delete(key);
      fn();
    });
    this.timers.set(key, handle);
  }

  cancel(key: string): void {
    const handle = this.timers.get(key);
    if (handle === undefined) return;
    this.timers.delete(key);
    this.clock.clearTimer(handle);
  }

  isScheduled(key: string): boolean {
    return this.timers.has(key);
  }

  get size(): number {
    return this.timers.size;
  }

  cancelAll(): void {
    for (const handle of this.timers.values()) this.clock.clearTimer(handle);
    this.timers.clear();
  }
}

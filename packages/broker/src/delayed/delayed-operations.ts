// Delayed operations: requests that cannot be answered yet wait here, each watched under one or
// more keys, until a change under a key lets them complete or their timeout passes — Kafka's
// DelayedOperationPurgatory. Users:
//   Fetch        watches its partitions; completes once min.bytes are readable (max.wait.ms).
//   Produce      (acks=-1 in cluster mode) will watch its partitions; completes once the high
//                watermark passes its last offset (request timeout).
//   JoinGroup    could watch its group; the classic-group manager answers its parked members from
//                its own state machine instead (see classic-group-manager.ts).
// Whoever changes what an operation waits for (an append, a high watermark move) calls
// checkAndComplete(key), or checkSoon(key) to coalesce: every operation watching a key marked
// during one turn of the event loop is checked once, after that turn, however many appends
// marked it.
//
// Each operation completes exactly once, with how: 'satisfied' (its condition held), 'expired'
// (its timeout passed) or 'forced' (completeAll, or it arrived after shutdown()). Completing
// removes it from every key and cancels its timer before its onComplete runs.
//
// Concurrency: event loop only. Timeouts come from an injected Clock (tests use ManualClock);
// with the system clock they do not keep the process alive.

import { type Clock, systemClock, type TimerHandle } from '../clock.ts';

export type Completion = 'satisfied' | 'expired' | 'forced';

export interface DelayedOperation {
  /**
   * Whether the operation can complete now (Kafka's tryComplete condition). Called at every check
   * of a key it watches, so it should be cheap; it must not throw (an operation whose check can
   * fail records the failure, returns true, and reports it from onComplete).
   */
  tryComplete(): boolean;
  /** Called exactly once, after the operation left the watch lists. */
  onComplete(completion: Completion): void;
}

export interface DelayedOperationsOptions {
  readonly clock?: Clock;
  /** Runs `fn` once the current turn is over (checkSoon); setImmediate by default. */
  readonly defer?: (fn: () => void) => void;
}

interface Watched<K> {
  readonly op: DelayedOperation;
  readonly keys: readonly K[];
  timer: TimerHandle | null;
  done: boolean;
}

export class DelayedOperations<K> {
  private readonly clock: Clock;
  private readonly defer: (fn: () => void) => void;
  private readonly watchers = new Map<K, Set<Watched<K>>>();
  private readonly pending = new Set<Watched<K>>();
  /** Keys marked by checkSoon since the last deferred check. */
  private readonly dirty = new Set<K>();
  private checkScheduled = false;
  private isShutDown = false;

  constructor(options: DelayedOperationsOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defer = options.defer ?? ((fn) => void setImmediate(fn));
  }

  /** Operations waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** Operations waiting under `key`. */
  watching(key: K): number {
    return this.watchers.get(key)?.size ?? 0;
  }

  /**
   * Completes `op` now if its condition holds, else watches it under `keys` until a check of one
   * of them finds it complete or `timeoutMs` passes. Returns true when it completed now.
   */
  tryCompleteElseWatch(op: DelayedOperation, keys: Iterable<K>, timeoutMs: number): boolean {
    if (!this.isShutDown && op.tryComplete()) {
      op.onComplete('satisfied');
      return true;
    }
    return this.watch(op, keys, timeoutMs);
  }

  /**
   * Watches `op` without checking it first (the caller just did). After shutdown() it completes
   * at once, 'forced'; returns true then.
   */
  watch(op: DelayedOperation, keys: Iterable<K>, timeoutMs: number): boolean {
    if (this.isShutDown) {
      op.onComplete('forced');
      return true;
    }
    const watched: Watched<K> = { op, keys: [...new Set(keys)], timer: null, done: false };
    for (const key of watched.keys) {
      let set = this.watchers.get(key);
      if (set === undefined) this.watchers.set(key, (set = new Set()));
      set.add(watched);
    }
    this.pending.add(watched);
    watched.timer = this.clock.setTimer(Math.max(0, timeoutMs), () => {
      watched.timer = null;
      this.complete(watched, 'expired');
    });
    return false;
  }

  /** Checks now every operation watching `key`; returns how many completed. */
  checkAndComplete(key: K): number {
    const set = this.watchers.get(key);
    if (set === undefined) return 0;
    let completed = 0;
    for (const watched of [...set]) {
      if (!watched.done && watched.op.tryComplete()) {
        this.complete(watched, 'satisfied');
        completed++;
      }
    }
    return completed;
  }

  /**
   * Marks `key` changed: once the current turn is over, every operation watching any marked key
   * is checked once. Costs a map lookup when nothing watches the key.
   */
  checkSoon(key: K): void {
    if (!this.watchers.has(key)) return;
    this.dirty.add(key);
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    this.defer(() => this.checkMarked());
  }

  /** Completes every waiting operation now, 'forced'; returns how many. */
  completeAll(): number {
    const all = [...this.pending];
    for (const watched of all) this.complete(watched, 'forced');
    return all.length;
  }

  /** Completes every waiting operation, 'forced', and every later one as it arrives. */
  shutdown(): void {
    this.isShutDown = true;
    this.completeAll();
  }

  private checkMarked(): void {
    this.checkScheduled = false;
    const toCheck = new Set<Watched<K>>();
    for (const key of this.dirty) {
      for (const watched of this.watchers.get(key) ?? []) toCheck.add(watched);
    }
    this.dirty.clear();
    for (const watched of toCheck) {
      if (!watched.done && watched.op.tryComplete()) this.complete(watched, 'satisfied');
    }
  }

  private complete(watched: Watched<K>, completion: Completion): void {
    if (watched.done) return;
    watched.done = true;
    this.pending.delete(watched);
    if (watched.timer !== null) {
      this.clock.clearTimer(watched.timer);
      watched.timer = null;
    }
    for (const key of watched.keys) {
      const set = this.watchers.get(key);
      if (set === undefined) continue;
      set.delete(watched);
      if (set.size === 0) this.watchers.delete(key);
    }
    watched.op.onComplete(completion);
  }
}

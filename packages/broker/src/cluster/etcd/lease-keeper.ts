// Keeps one etcd lease alive: renews it every third of its TTL and says when it is lost — etcd
// answered that it no longer exists, or no renewal succeeded for a whole TTL counted from when
// the last successful renewal was sent (etcd may have expired it since; the holder must act as
// if it had). That deadline has its own timer: a renewal hanging on an unresponsive etcd does
// not delay it. Losing the lease is final: whoever held keys under it registers again with a new
// lease. This is what fences a broker that cannot reach etcd (README: "fence themselves").

import type { KvStore } from './kv-store.ts';

/** Renewals waiting for an answer at once, at most (etcd unresponsive: no pile-up). */
const MAX_RENEWALS_IN_FLIGHT = 3;

export class LeaseKeeper {
  readonly lease: string;
  readonly ttlSeconds: number;
  private readonly store: KvStore;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  /** Fires when the lease may have expired at etcd (a TTL after the last renewal was sent). */
  private deadline: NodeJS.Timeout | null = null;
  /** When the request of the last successful renewal (or the grant) was sent. */
  private renewedAt: number;
  private lostReason: string | null = null;
  private readonly onLost: (reason: string) => void;

  private constructor(store: KvStore, lease: string, ttlSeconds: number, sentAt: number, onLost: (reason: string) => void) {
    this.store = store;
    this.lease = lease;
    this.ttlSeconds = ttlSeconds;
    this.renewedAt = sentAt;
    this.onLost = onLost;
  }

  /** Grants a lease of `ttlSeconds` and starts renewing it. */
  static async grant(store: KvStore, ttlSeconds: number, onLost: (reason: string) => void): Promise<LeaseKeeper> {
    const sentAt = performance.now();
    const lease = await store.grantLease(ttlSeconds);
    const keeper = new LeaseKeeper(store, lease, ttlSeconds, sentAt, onLost);
    keeper.schedule();
    keeper.armDeadline();
    return keeper;
  }

  /** Null while the lease is held; why it was lost otherwise. */
  get lost(): string | null {
    return this.lostReason;
  }

  /** Milliseconds the lease is certain to live, from now (0 once lost). */
  remainingMs(now = performance.now()): number {
    if (this.lostReason !== null) return 0;
    return Math.max(0, this.renewedAt + this.ttlSeconds * 1000 - now);
  }

  /** Stops renewing and revokes the lease (its keys go at once). */
  async revoke(): Promise<void> {
    this.stopTimer();
    if (this.lostReason !== null) return;
    this.lostReason = 'revoked';
    await this.store.revokeLease(this.lease);
  }

  /** Stops renewing without revoking (the lease runs out on its own). */
  stop(): void {
    this.stopTimer();
    if (this.lostReason === null) this.lostReason = 'stopped';
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = null;
  }

  private armDeadline(): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadline = setTimeout(
      () => {
        this.deadline = null;
        if (this.lostReason === null && this.remainingMs() === 0) this.lose(`lease ${this.lease} not renewed for ${this.ttlSeconds} s`);
        else if (this.lostReason === null) this.armDeadline();
      },
      Math.max(1, this.remainingMs()),
    );
    this.deadline.unref();
  }

  /**
   * Renews every third of the TTL whether or not the previous renewal has answered: one slow
   * request (a loaded machine, an etcd failing over) does not hold the next ones back.
   */
  private schedule(): void {
    const every = Math.max(100, (this.ttlSeconds * 1000) / 3);
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  private async renew(): Promise<void> {
    if (this.inFlight >= MAX_RENEWALS_IN_FLIGHT) return;
    this.inFlight++;
    const sentAt = performance.now();
    try {
      const ttl = await this.store.keepAlive(this.lease);
      if (this.lostReason !== null) return;
      if (ttl <= 0) return this.lose(`etcd says lease ${this.lease} no longer exists`);
      if (sentAt > this.renewedAt) {
        this.renewedAt = sentAt;
        this.armDeadline();
      }
    } catch {
      // Unreachable or slow etcd: the deadline timer decides when the lease counts as lost.
    } finally {
      this.inFlight--;
    }
  }

  private lose(reason: string): void {
    this.stopTimer();
    this.lostReason = reason;
    this.onLost(reason);
  }
}

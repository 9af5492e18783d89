// connection_creation_rate per IP address (KIP-612): new connections per second from one address,
// the address's own quota else the default ip entity's. A connection over the rate is not counted
// and is closed after the throttle time (Kafka's acceptor holds the socket, then closes it, so a
// client retrying in a loop is slowed down rather than refused at once).

import type { MemoryClientQuotaStore } from './client-quota-store.ts';
import { type RateWindow, SampledRate, throttleTimeMs } from './rate.ts';

const KEY = 'connection_creation_rate';

export class IpConnectionQuota {
  private readonly store: MemoryClientQuotaStore;
  private readonly window: RateWindow;
  private readonly now: () => number;
  private readonly rates = new Map<string, { rate: SampledRate; lastUsed: number }>();
  private any: boolean | undefined;

  constructor(store: MemoryClientQuotaStore, window: RateWindow, now: () => number = Date.now) {
    this.store = store;
    this.window = window;
    this.now = now;
    store.onChange(() => (this.any = undefined));
  }

  /** Counts a new connection from `ip`; returns 0 to accept it, else the ms to hold it before closing it. */
  recordConnection(ip: string): number {
    if (this.any === undefined) this.any = this.store.all().some((e) => e.entity[0]?.type === 'ip' && e.values.has(KEY));
    if (!this.any) return 0;
    const quota = this.store.get([{ type: 'ip', name: ip }])?.get(KEY) ?? this.store.get([{ type: 'ip', name: null }])?.get(KEY);
    if (quota === undefined) return 0;
    const now = this.now();
    if (this.rates.size > 10_000) for (const [k, v] of this.rates) if (now - v.lastUsed > 3_600_000) this.rates.delete(k);
    let entry = this.rates.get(ip);
    if (entry === undefined) this.rates.set(ip, (entry = { rate: new SampledRate(this.window), lastUsed: now }));
    entry.lastUsed = now;
    entry.rate.record(1, now);
    const ms = throttleTimeMs(entry.rate.measure(now), quota, entry.rate.windowSizeMs(now));
    if (ms > 0) entry.rate.record(-1, now); // a refused connection does not count
    return ms;
  }
}

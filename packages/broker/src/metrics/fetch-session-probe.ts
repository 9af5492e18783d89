// The fetch session probe (KIP-227): fetch requests by kind (incremental from a session, or full:
// opening a session or without one), the sessions open and the partitions they hold (read off the
// cache at scrape time), and the sessions evicted to make room for others.

import { Counter, Gauge, type Registry } from 'prom-client';
import type { FetchSessionCache } from '../fetch-session-cache.ts';
import { type CounterChild, CounterFamily } from './families.ts';

/** What a Fetch request was, as handlers/fetch-session-context.ts decides it. */
export type FetchKind = 'sessionless' | 'full' | 'incremental' | 'error';

export class FetchSessionProbe {
  private readonly incremental: CounterChild;
  private readonly full: CounterChild;
  private cache: FetchSessionCache | null = null;

  constructor(registry: Registry) {
    const registers = [registry];
    this.incremental = new CounterFamily(registry, {
      name: 'sluice_fetch_sessions_incremental_total',
      help: 'Incremental Fetch requests served from a fetch session (KIP-227).',
      labelNames: [],
    }).child();
    this.full = new CounterFamily(registry, {
      name: 'sluice_fetch_sessions_full_total',
      help: 'Full Fetch requests (every partition listed): those opening a fetch session and those without one.',
      labelNames: [],
    }).child();
    const probe = this;
    new Gauge({
      name: 'sluice_fetch_sessions_open',
      help: 'Fetch sessions in the cache (at most max.incremental.fetch.session.cache.slots).',
      registers,
      collect() {
        this.set(probe.cache?.size ?? 0);
      },
    });
    new Gauge({
      name: 'sluice_fetch_sessions_partitions',
      help: 'Partitions held by all fetch sessions.',
      registers,
      collect() {
        this.set(probe.cache?.partitionsCached ?? 0);
      },
    });
    new Counter({
      name: 'sluice_fetch_sessions_evictions_total',
      help: 'Fetch sessions evicted (unused for 120 s) to make room for a new one.',
      registers,
      collect() {
        // The cache counts; the counter mirrors it at scrape time.
        this.reset();
        this.inc(probe.cache?.evictions ?? 0);
      },
    });
  }

  /** The cache whose sessions the gauges show. */
  watch(cache: FetchSessionCache): void {
    this.cache = cache;
  }

  requested(kind: FetchKind): void {
    if (kind === 'incremental') this.incremental.inc();
    else if (kind !== 'error') this.full.inc();
  }
}

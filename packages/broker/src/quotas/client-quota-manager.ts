// Enforcing client quotas as Kafka's ClientQuotaManager does (KIP-13, KIP-55, KIP-124, KIP-599).
//
// Which quota applies to a request from user U with client id C: per quota key, the first of
// these entities that sets it (Kafka's precedence):
//   1 user U + client-id C   2 user U + default client-id   3 user U
//   4 default user + client-id C   5 default user + default client-id   6 default user
//   7 client-id C   8 default client-id
// The level that matched also decides who shares the rate: a quota on `user U` is shared by all
// of U's client ids, a default-user quota applies to each user separately, and so on (Kafka's
// metric tags). Without any quota the client is still measured (metrics), never throttled.
//
// Bandwidth (produce, fetch): the request's bytes are recorded and, when the rate is above the
// quota, the throttle time is what brings it back (rate.ts). Request time (request_percentage):
// the time handlers spent on the client's requests, as a percentage of one thread per second,
// throttled for at most one window. Controller mutations (controller_mutation_rate, partitions
// created or deleted per second): a token bucket; new request versions are refused with
// THROTTLING_QUOTA_EXCEEDED while the bucket is in debt (strict), older ones accepted and throttled.

import type { ClientQuotaEntity } from './client-quota-entity.ts';
import type { MemoryClientQuotaStore } from './client-quota-store.ts';
import { IpConnectionQuota } from './ip-connection-quota.ts';
import { type RateWindow, SampledRate, TokenBucket, throttleTimeMs } from './rate.ts';

export type QuotaType = 'produce' | 'fetch' | 'request' | 'controller_mutation';

const KEY_OF: Readonly<Record<QuotaType, string>> = {
  produce: 'producer_byte_rate',
  fetch: 'consumer_byte_rate',
  request: 'request_percentage',
  controller_mutation: 'controller_mutation_rate',
};

/** Sensors unused this long are dropped (Kafka's inactive sensor expiry). */
const SENSOR_EXPIRY_MS = 60 * 60 * 1000;

/** Who a sensor measures: the user and client id tags of the level that matched ('' = not part of it). */
export interface QuotaSensorInfo {
  readonly type: QuotaType;
  readonly user: string;
  readonly clientId: string;
  /** Bytes per second, percent of a thread, or (controller mutations) tokens left. */
  readonly value: number;
  /** The quota; undefined when none applies. */
  readonly quota: number | undefined;
  readonly throttleTimeMsTotal: number;
  readonly throttledTotal: number;
}

interface Sensor {
  readonly user: string;
  readonly clientId: string;
  readonly rate: SampledRate;
  readonly bucket: TokenBucket;
  quota: number | undefined;
  lastUsed: number;
  throttleTimeMsTotal: number;
  throttledTotal: number;
}

interface Resolved {
  readonly user: string;
  readonly clientId: string;
  readonly quota: number | undefined;
}

export class QuotaManager {
  readonly type: QuotaType;
  private readonly store: MemoryClientQuotaStore;
  private readonly window: RateWindow;
  private readonly now: () => number;
  private readonly sensors = new Map<string, Sensor>();
  private readonly resolved = new Map<string, Resolved>();
  private lastExpiry = 0;
  private any: boolean | undefined;

  constructor(type: QuotaType, store: MemoryClientQuotaStore, window: RateWindow, now: () => number = Date.now) {
    this.type = type;
    this.store = store;
    this.window = window;
    this.now = now;
    store.onChange(() => {
      this.resolved.clear();
      this.any = undefined;
    });
  }

  /** Whether any entity sets this quota type: when none does, requests skip all quota bookkeeping. */
  get anyQuota(): boolean {
    if (this.any === undefined) {
      const key = KEY_OF[this.type];
      this.any = this.store.all().some((e) => e.values.has(key));
    }
    return this.any;
  }

  /** Records `value` for the client and returns how long it must now be throttled (ms, 0 = not). */
  recordAndGetThrottleTimeMs(user: string, clientId: string, value: number): number {
    const now = this.now();
    const sensor = this.sensorOf(user, clientId, now);
    sensor.rate.record(value, now);
    if (sensor.quota === undefined) return 0;
    const windowMs = sensor.rate.windowSizeMs(now);
    let ms = throttleTimeMs(sensor.rate.measure(now), sensor.quota, windowMs);
    // Request-time throttles are bounded by one window (Kafka's ClientRequestQuotaManager).
    if (this.type === 'request') ms = Math.min(ms, this.window.windowMs);
    return ms;
  }

  /** Takes back a recorded value (a fetch answered empty because it was throttled: no bytes went out). */
  unrecord(user: string, clientId: string, value: number): void {
    const now = this.now();
    this.sensorOf(user, clientId, now).rate.record(-value, now);
  }

  /** The most a response may carry in one quota window (Kafka caps fetch sizes with it); Infinity without a quota. */
  maxValueInQuotaWindow(user: string, clientId: string): number {
    const q = this.resolve(user, clientId).quota;
    return q === undefined ? Number.POSITIVE_INFINITY : q * (this.window.samples - 1) * (this.window.windowMs / 1000);
  }

  /**
   * Controller mutations, strict mode: the throttle time when the client's bucket is in debt now
   * (the request must be refused), else 0. Then `recordMutations` takes the permits.
   */
  mutationThrottleTimeMs(user: string, clientId: string): number {
    const now = this.now();
    const sensor = this.sensorOf(user, clientId, now);
    return sensor.quota === undefined ? 0 : sensor.bucket.throttleTimeMs(sensor.quota, now);
  }

  /** Takes `permits` (partitions created or deleted) from the client's bucket; returns the throttle time after it. */
  recordMutations(user: string, clientId: string, permits: number): number {
    const now = this.now();
    const sensor = this.sensorOf(user, clientId, now);
    if (sensor.quota === undefined) return 0;
    sensor.bucket.record(permits, sensor.quota, now);
    return sensor.bucket.throttleTimeMs(sensor.quota, now);
  }

  /** Counts a throttle that was applied (metrics). */
  throttled(user: string, clientId: string, ms: number): void {
    if (ms <= 0) return;
    const sensor = this.sensorOf(user, clientId, this.now());
    sensor.throttleTimeMsTotal += ms;
    sensor.throttledTotal++;
  }

  /** Every live sensor, for the metrics. */
  sensorInfos(): QuotaSensorInfo[] {
    const now = this.now();
    return [...this.sensors.values()].map((s) => ({
      type: this.type,
      user: s.user,
      clientId: s.clientId,
      value: this.type === 'controller_mutation' ? (s.quota === undefined ? 0 : s.bucket.measure(s.quota, now)) : s.rate.measure(now),
      quota: s.quota,
      throttleTimeMsTotal: s.throttleTimeMsTotal,
      throttledTotal: s.throttledTotal,
    }));
  }

  private sensorOf(user: string, clientId: string, now: number): Sensor {
    if (now - this.lastExpiry > 60_000) this.expire(now);
    const r = this.resolve(user, clientId);
    const key = `${r.user}\u0000${r.clientId}`;
    let sensor = this.sensors.get(key);
    if (sensor === undefined) {
      sensor = {
        user: r.user,
        clientId: r.clientId,
        rate: new SampledRate(this.window),
        bucket: new TokenBucket(this.window),
        quota: r.quota,
        lastUsed: now,
        throttleTimeMsTotal: 0,
        throttledTotal: 0,
      };
      this.sensors.set(key, sensor);
    }
    sensor.quota = r.quota; // an AlterClientQuotas since the last request applies at once
    sensor.lastUsed = now;
    return sensor;
  }

  private expire(now: number): void {
    this.lastExpiry = now;
    for (const [key, s] of this.sensors) if (now - s.lastUsed > SENSOR_EXPIRY_MS) this.sensors.delete(key);
  }

  /** The quota for (user, clientId) and the tags of the level that set it (cached until quotas change). */
  private resolve(user: string, clientId: string): Resolved {
    const cacheKey = `${user}\u0000${clientId}`;
    let r = this.resolved.get(cacheKey);
    if (r !== undefined) return r;
    r = this.lookup(user, clientId);
    if (this.resolved.size > 10_000) this.resolved.clear(); // bounded whatever client ids arrive
    this.resolved.set(cacheKey, r);
    return r;
  }

  private lookup(user: string, clientId: string): Resolved {
    const key = KEY_OF[this.type];
    const u = (name: string | null) => ({ type: 'user' as const, name });
    const c = (name: string | null) => ({ type: 'client-id' as const, name });
    const levels: [ClientQuotaEntity, string, string][] = [
      [[u(user), c(clientId)], user, clientId],
      [[u(user), c(null)], user, clientId],
      [[u(user)], user, ''],
      [[u(null), c(clientId)], user, clientId],
      [[u(null), c(null)], user, clientId],
      [[u(null)], user, ''],
      [[c(clientId)], '', clientId],
      [[c(null)], '', clientId],
    ];
    for (const [entity, tagUser, tagClient] of levels) {
      const value = this.store.get(entity)?.get(key);
      if (value !== undefined) return { user: tagUser, clientId: tagClient, quota: value };
    }
    return { user: '', clientId, quota: undefined };
  }
}

/** The broker's quota managers, one per quota type, over one store. */
export class ClientQuotas {
  readonly store: MemoryClientQuotaStore;
  readonly produce: QuotaManager;
  readonly fetch: QuotaManager;
  readonly request: QuotaManager;
  readonly controllerMutation: QuotaManager;
  /** connection_creation_rate per IP address. */
  readonly ipConnections: IpConnectionQuota;

  constructor(store: MemoryClientQuotaStore, window: RateWindow, controllerWindow: RateWindow, now: () => number = Date.now) {
    this.store = store;
    this.produce = new QuotaManager('produce', store, window, now);
    this.fetch = new QuotaManager('fetch', store, window, now);
    this.request = new QuotaManager('request', store, window, now);
    this.controllerMutation = new QuotaManager('controller_mutation', store, controllerWindow, now);
    this.ipConnections = new IpConnectionQuota(store, window, now);
  }

  sensorInfos(): QuotaSensorInfo[] {
    return [this.produce, this.fetch, this.request, this.controllerMutation].flatMap((m) => m.sensorInfos());
  }
}

/** The quota user of a principal: its name ("User:alice" → "alice"), as Kafka's sanitized user. */
export function quotaUser(principal: string): string {
  const colon = principal.indexOf(':');
  return colon < 0 ? principal : principal.slice(colon + 1);
}

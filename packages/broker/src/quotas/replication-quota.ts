// Replication throttles, as Kafka's ReplicationQuotaManager: one quota for what this broker sends
// as leader to followers' fetches, one for what it fetches as follower, each a byte rate
// (`leader.replication.throttled.rate`, `follower.replication.throttled.rate`; dynamic broker
// configs, read at every use) measured over `replication.quota.window.num` samples of
// `replication.quota.window.size.seconds` with Kafka's Rate arithmetic (rate.ts). Only throttled
// replicas count and are held back: a partition is throttled on this broker when its topic's
// `leader.replication.throttled.replicas` (leader side) or `follower.replication.throttled.replicas`
// (follower side) is `*` or lists `<partition>:<this broker's id>` — the tool lists the brokers
// that lead (the current replicas) in the first and the brokers that catch up (the added ones) in
// the second, so each broker reads the entries naming itself (Kafka's
// TopicConfigHandler.parseThrottledPartitions).
//
// Kafka's use, which the callers follow: a throttled partition of a replica that is not in sync is
// left out (leader: answered without records; follower: not asked for) while the quota is
// exceeded; the bytes of throttled partitions are recorded after each fetch, in sync or not.

import type { ConfigValue } from '../config.ts';
import type { Partition } from '../partition.ts';
import { type RateWindow, SampledRate } from './rate.ts';

export type ReplicationQuotaSide = 'leader' | 'follower';

/** The topic config naming each side's throttled replicas. */
export const THROTTLED_REPLICAS_CONFIG: Readonly<Record<ReplicationQuotaSide, string>> = {
  leader: 'leader.replication.throttled.replicas',
  follower: 'follower.replication.throttled.replicas',
};

/** The broker config (dynamic) holding each side's rate. */
export const THROTTLED_RATE_CONFIG: Readonly<Record<ReplicationQuotaSide, string>> = {
  leader: 'leader.replication.throttled.rate',
  follower: 'follower.replication.throttled.rate',
};

/** Kafka's Long.MAX_VALUE as Sluice parses it: no throttle. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

/**
 * The partitions of a throttled-replicas list that name `nodeId`: 'all' for `*`, else their
 * indexes. Lists are parsed once each (a topic's config value is the same array until changed).
 */
const parsed = new WeakMap<readonly string[], Map<number, 'all' | ReadonlySet<number>>>();

export function throttledPartitions(list: readonly string[], nodeId: number): 'all' | ReadonlySet<number> {
  let byNode = parsed.get(list);
  if (byNode === undefined) parsed.set(list, (byNode = new Map()));
  let found = byNode.get(nodeId);
  if (found === undefined) {
    if (list.length === 1 && list[0] === '*') found = 'all';
    else {
      const set = new Set<number>();
      for (const entry of list) {
        const [partition, broker] = entry.split(':');
        if (Number(broker) === nodeId) set.add(Number(partition));
      }
      found = set;
    }
    byNode.set(nodeId, found);
  }
  return found;
}

export class ReplicationQuota {
  readonly side: ReplicationQuotaSide;
  private readonly nodeId: number;
  private readonly rateConfig: () => number;
  private readonly rate: SampledRate;
  private readonly window: RateWindow;
  /** Bytes of throttled partitions recorded (the Prometheus counters read them at scrape). */
  bytesRecorded = 0;
  /** Times a throttled partition was left out of a fetch because the quota was exceeded. */
  partitionsHeldBack = 0;

  /** `rateConfig` reads the current rate (bytes/s; Long.MAX_VALUE: none) at every use. */
  constructor(side: ReplicationQuotaSide, nodeId: number, window: RateWindow, rateConfig: () => number) {
    this.side = side;
    this.nodeId = nodeId;
    this.window = window;
    this.rateConfig = rateConfig;
    this.rate = new SampledRate(window);
  }

  /** The configured bound in bytes/s (UNLIMITED: none). */
  get bound(): number {
    return this.rateConfig();
  }

  /** Whether `partition` is a throttled replica on this side of this broker (its topic's list). */
  isThrottled(partition: Partition): boolean {
    const list: ConfigValue = partition.topic.config.get(THROTTLED_REPLICAS_CONFIG[this.side]);
    if (!Array.isArray(list) || list.length === 0) return false;
    const found = throttledPartitions(list, this.nodeId);
    return found === 'all' || found.has(partition.index);
  }

  /** Kafka's isQuotaExceeded: the measured rate is above the bound (never, without a bound). */
  exceeded(now = Date.now()): boolean {
    const bound = this.bound;
    if (bound >= UNLIMITED) return false;
    return this.rate.measure(now) > bound;
  }

  /** Whether a throttled, out-of-sync replica's partition is left out now (and counts it when it is). */
  holdsBack(partition: Partition, inSync: boolean, now = Date.now()): boolean {
    if (inSync || !this.isThrottled(partition) || !this.exceeded(now)) return false;
    this.partitionsHeldBack++;
    return true;
  }

  /** Records bytes of throttled partitions sent (leader) or fetched (follower). */
  record(bytes: number, now = Date.now()): void {
    if (bytes <= 0) return;
    this.bytesRecorded += bytes;
    this.rate.record(bytes, now);
  }

  /** The measured rate in bytes/s (tests, logs). */
  measured(now = Date.now()): number {
    return this.rate.measure(now);
  }

  /** How long until the measured rate is back under the bound (0 when it is), for a follower with nothing to fetch. */
  delayMs(now = Date.now()): number {
    const bound = this.bound;
    const observed = this.rate.measure(now);
    if (bound >= UNLIMITED || observed <= bound) return 0;
    return Math.min(this.window.windowMs, Math.ceil(((observed - bound) / bound) * this.rate.windowSizeMs(now)));
  }
}

/** Both sides of one broker. */
export interface ReplicationQuotas {
  readonly leader: ReplicationQuota;
  readonly follower: ReplicationQuota;
}

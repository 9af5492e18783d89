// A broker's metrics: one prom-client Registry and one probe per subsystem. Only the probes touch
// prom-client; the rest of the broker calls probe methods named for what happened.
//
// Two kinds of values: events counted as they happen (requests, appends, traffic — cheap adds on
// the request path), and state read at scrape time (partition offsets, groups, the native
// writer's and flush counters — one native stats() call per scrape, not per event).

import type { FlushStats, WriterStats } from '@sluice/native';
import { flushStats } from '@sluice/native';
import { Registry } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.ts';
import type { TopicRegistry } from '../topics.ts';
import { BrokerProbe } from './broker-probe.ts';
import { ClusterProbe, type ClusterStats } from './cluster-probe.ts';
import { type AppendMode, DataPathProbe } from './data-path-probe.ts';
import { GroupProbe } from './group-probe.ts';
import { LogProbe } from './log-probe.ts';
import type { ScrapeSource } from './metrics-server.ts';
import { ProcessProbe } from './process-probe.ts';
import { QuotaProbe, type QuotaSensors } from './quota-probe.ts';
import type { ReplicationQuotas } from '../quotas/replication-quota.ts';
import { FetchSessionProbe } from './fetch-session-probe.ts';
import { SecurityProbe } from './security-probe.ts';
import { ShareProbe, type ShareStatsSource } from './share-probe.ts';
import { type OpenTransactions, TransactionProbe } from './transaction-probe.ts';

/** What a scrape reads; attached once the broker has loaded them. */
export interface ScrapeSources {
  readonly topics: TopicRegistry;
  readonly groups: GroupCoordinator;
  /** The transaction coordinator (open transactions). */
  readonly transactions?: OpenTransactions;
  /** The share coordinator (share groups, KIP-932). */
  readonly share?: ShareStatsSource;
  /** The connection writer's counters (one native call). */
  readonly writerStats: () => WriterStats;
  /** The process-wide flush counters (one native call); defaults to @sluice/native's. */
  readonly flushStats?: () => FlushStats;
  /** `log.dirs`: their filesystems' capacity and available bytes are read at each scrape. */
  readonly logDirs?: readonly string[];
  /** Cluster mode: what this broker sees of the cluster. */
  readonly cluster?: () => ClusterStats;
  /** The client quota managers (per-client rates and throttles). */
  readonly quotas?: QuotaSensors;
  /** The replication throttles (leader and follower side). */
  readonly replicationQuotas?: ReplicationQuotas;
}

export interface BrokerMetricsOptions {
  /** `sluice.log.append.mode`: appends are counted under this mode. */
  readonly appendMode: AppendMode;
}

export class BrokerMetrics implements ScrapeSource {
  readonly registry: Registry;
  readonly broker: BrokerProbe;
  readonly dataPath: DataPathProbe;
  readonly log: LogProbe;
  readonly groups: GroupProbe;
  readonly transactions: TransactionProbe;
  readonly process: ProcessProbe;
  readonly cluster: ClusterProbe;
  readonly security: SecurityProbe;
  readonly quotas: QuotaProbe;
  readonly fetchSessions: FetchSessionProbe;
  readonly share: ShareProbe;
  private sources: ScrapeSources | null = null;

  constructor(options: BrokerMetricsOptions) {
    this.registry = new Registry();
    this.broker = new BrokerProbe(this.registry);
    this.dataPath = new DataPathProbe(this.registry, options.appendMode);
    this.log = new LogProbe(this.registry);
    this.groups = new GroupProbe(this.registry);
    this.transactions = new TransactionProbe(this.registry);
    this.process = new ProcessProbe(this.registry);
    this.cluster = new ClusterProbe(this.registry);
    this.security = new SecurityProbe(this.registry);
    this.quotas = new QuotaProbe(this.registry);
    this.fetchSessions = new FetchSessionProbe(this.registry);
    this.share = new ShareProbe(this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  attach(sources: ScrapeSources): void {
    this.sources = sources;
  }

  /** Before the broker's parts close: later scrapes show only what was counted. */
  detach(): void {
    this.sources = null;
  }

  /** Reads scrape-time state into the probes. */
  refresh(): void {
    const sources = this.sources;
    const writer = sources === null ? null : sources.writerStats();
    const topics = sources?.topics;
    this.broker.refresh(writer, (name) => topics === undefined || topics.get(name) !== undefined);
    this.dataPath.refresh(writer, (sources?.flushStats ?? flushStats)());
    if (sources !== null) {
      this.log.refresh(sources.topics.topics);
      this.log.refreshDirs(sources.logDirs ?? []);
      this.groups.refresh(sources.groups, sources.topics);
      this.cluster.refresh(sources.cluster?.() ?? null);
      this.transactions.refresh(sources.transactions ?? null, sources.topics);
      this.quotas.refresh(sources.quotas ?? null, sources.replicationQuotas ?? null);
      this.share.refresh(sources.share ?? null);
    }
  }

  /** The Prometheus text exposition of every metric, fresh. */
  async scrape(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }
}

// The cluster probe (cluster mode): what this broker sees of the cluster and does in it — live
// brokers, whether it is the controller, the partitions it leads without their full replica set
// in sync, leader elections it wrote as controller (and the unclean ones among them, or written
// for an unclean ElectLeaders), ISR changes it wrote as leader, bytes its
// followers replicated, consumer bytes it served as follower (KIP-392), record bytes it sent to
// each follower by transfer mode, each follower's lag (offsets and time) on the partitions it
// leads, and the latency of its etcd requests. State is read at scrape time from
// a `ClusterStats` the broker attaches (the cluster layer is not imported here); etcd latency is
// observed as requests finish. On a single node nothing is attached and the values stay 0.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What a scrape reads of the cluster (cumulative counts since start). */
export interface ClusterStats {
  readonly liveBrokers: number;
  readonly isController: boolean;
  /** Partitions this broker leads whose ISR is smaller than their replica set. */
  readonly underReplicatedPartitions: number;
  /** Controller only: partitions without a leader. */
  readonly offlinePartitions: number;
  readonly leaderElections: number;
  /** Elections of a leader from outside the ISR this broker wrote (as controller, or for ElectLeaders); absent: 0. */
  readonly uncleanLeaderElections?: number;
  readonly isrShrinks: number;
  readonly isrExpands: number;
  readonly replicaFetchedBytes: number;
  /** Leader only: each assigned follower's lag, per partition led here. */
  readonly replicaLag?: ReadonlyArray<{
    readonly topic: string;
    readonly partition: number;
    readonly replica: number;
    readonly messages: number;
    readonly ms: number;
  }>;
}

/** etcd request latency buckets, seconds: a local etcd answers in about a millisecond. */
const ETCD_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class ClusterProbe {
  private readonly brokers: Gauge;
  private readonly controller: Gauge;
  private readonly underReplicated: Gauge;
  private readonly offline: Gauge;
  private readonly elections: Counter;
  private readonly uncleanElections: Counter;
  private readonly isrChanges: Counter;
  private readonly fetchedBytes: Counter;
  private readonly followerReadBytes: Counter;
  private readonly followerFetchBytes: Counter;
  private readonly lagMessages: Gauge;
  private readonly lagSeconds: Gauge;
  private readonly etcdLatency: Histogram;
  /** The cumulative values last turned into counter increments. */
  private last = { leaderElections: 0, uncleanLeaderElections: 0, isrShrinks: 0, isrExpands: 0, replicaFetchedBytes: 0 };

  constructor(registry: Registry) {
    const registers = [registry];
    this.brokers = new Gauge({ name: 'sluice_cluster_brokers', help: 'Live brokers this broker sees registered in etcd (cluster mode).', registers });
    this.controller = new Gauge({ name: 'sluice_cluster_controller_active', help: '1 while this broker is the elected controller.', registers });
    this.underReplicated = new Gauge({
      name: 'sluice_cluster_under_replicated_partitions',
      help: 'Partitions this broker leads whose ISR is smaller than their replica set.',
      registers,
    });
    this.offline = new Gauge({ name: 'sluice_cluster_offline_partitions', help: 'Partitions without a leader (reported by the controller).', registers });
    this.elections = new Counter({ name: 'sluice_cluster_leader_elections_total', help: 'Leader changes this broker wrote as controller.', registers });
    this.uncleanElections = new Counter({
      name: 'sluice_cluster_unclean_leader_elections_total',
      help: 'Leaders elected from outside the ISR (unclean.leader.election.enable, ElectLeaders UNCLEAN) this broker wrote: records may have been lost.',
      registers,
    });
    this.isrChanges = new Counter({
      name: 'sluice_cluster_isr_changes_total',
      help: 'ISR shrinks and expands this broker wrote as leader.',
      labelNames: ['change'],
      registers,
    });
    this.fetchedBytes = new Counter({
      name: 'sluice_cluster_replica_fetched_bytes_total',
      help: 'Record bytes this broker fetched from leaders and appended as follower.',
      registers,
    });
    this.followerReadBytes = new Counter({
      name: 'sluice_cluster_follower_read_bytes_total',
      help: 'Record bytes this broker served to consumers from partitions it follows (KIP-392 follower fetching).',
      registers,
    });
    this.followerFetchBytes = new Counter({
      name: 'sluice_cluster_follower_fetch_bytes_total',
      help: "Record bytes this broker, as leader, sent to each follower's fetches, by transfer mode (sluice.transfer.mode; the inter-broker listener is PLAINTEXT).",
      labelNames: ['replica', 'mode'],
      registers,
    });
    const lagLabels = ['topic', 'partition', 'replica'];
    this.lagMessages = new Gauge({
      name: 'sluice_cluster_replica_lag_messages',
      help: "Leader only: offsets each follower lacks (the leader's log end minus the follower's), per partition led here.",
      labelNames: lagLabels,
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'sluice_cluster_replica_lag_seconds',
      help: 'Leader only: seconds since each follower last had everything the leader had (replica.lag.time.max.ms drops it from the ISR), per partition led here.',
      labelNames: lagLabels,
      registers,
    });
    this.etcdLatency = new Histogram({
      name: 'sluice_cluster_etcd_request_seconds',
      help: 'Latency of etcd requests (range, put, txn, lease grant/keepalive/revoke), by operation.',
      labelNames: ['operation'],
      buckets: ETCD_BUCKETS,
      registers,
    });
  }

  /** A consumer's Fetch read `bytes` from partitions this broker follows (KIP-392). */
  followerRead(bytes: number): void {
    this.followerReadBytes.inc(bytes);
  }

  /** As leader, `bytes` of records went to follower `replica`'s fetch, sent in transfer `mode`. */
  followerFetched(replica: number, mode: string, bytes: number): void {
    this.followerFetchBytes.inc({ replica: String(replica), mode }, bytes);
  }

  /** An etcd request finished (successfully or not). */
  etcdRequest(operation: string, seconds: number): void {
    this.etcdLatency.observe({ operation }, seconds);
  }

  /** Scrape time. */
  refresh(stats: ClusterStats | null): void {
    if (stats === null) return;
    this.brokers.set(stats.liveBrokers);
    this.controller.set(stats.isController ? 1 : 0);
    this.underReplicated.set(stats.underReplicatedPartitions);
    this.offline.set(stats.offlinePartitions);
    this.elections.inc(Math.max(0, stats.leaderElections - this.last.leaderElections));
    const unclean = stats.uncleanLeaderElections ?? 0;
    this.uncleanElections.inc(Math.max(0, unclean - this.last.uncleanLeaderElections));
    this.isrChanges.inc({ change: 'shrink' }, Math.max(0, stats.isrShrinks - this.last.isrShrinks));
    this.isrChanges.inc({ change: 'expand' }, Math.max(0, stats.isrExpands - this.last.isrExpands));
    this.fetchedBytes.inc(Math.max(0, stats.replicaFetchedBytes - this.last.replicaFetchedBytes));
    // Lag series of partitions no longer led here (or followers no longer assigned) go.
    this.lagMessages.reset();
    this.lagSeconds.reset();
    for (const lag of stats.replicaLag ?? []) {
      const labels = { topic: lag.topic, partition: String(lag.partition), replica: String(lag.replica) };
      this.lagMessages.set(labels, lag.messages);
      this.lagSeconds.set(labels, lag.ms / 1000);
    }
    this.last = {
      leaderElections: stats.leaderElections,
      uncleanLeaderElections: unclean,
      isrShrinks: stats.isrShrinks,
      isrExpands: stats.isrExpands,
      replicaFetchedBytes: stats.replicaFetchedBytes,
    };
  }
}

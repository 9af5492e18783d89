// A broker's part in a cluster (cluster mode: `sluice.metadata.etcd.endpoints` set): the etcd
// client, the cluster id, this broker's registration and lease, its view of the cluster, the
// controller (active when elected) and the projection of etcd's topics into the local registry.
// The broker builds one at start when cluster mode is on; handlers ask it who leads what.
//
// Fencing: when the lease is lost (etcd unreachable for a whole session timeout, or the lease
// expired) the broker is fenced — it leads nothing, so it accepts no writes — and it registers
// again, as a new broker epoch (the controller treats that as failed-and-rejoined).

import { ErrorCode } from '@sluice/protocol';
import type { BrokerConfig, ConfigValue } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Partition } from '../partition.ts';
import { newTopicId, type TopicRegistry } from '../topics.ts';
import { ClusterView, type LiveBroker } from './cluster-view.ts';
import { Controller } from './controller.ts';
import { electPreferredLeader, electUncleanLeader, isUncleanElection } from './election.ts';
import { EtcdClient } from './etcd/etcd-client.ts';
import { type Compare, type KvStore, KvStoreError, type Op } from './etcd/kv-store.ts';
import type { LeaseKeeper } from './etcd/lease-keeper.ts';
import { interBrokerConnection } from './inter-broker-security.ts';
import { type FetcherSettings, type FollowedPartition, LeaderFetcher } from './replica-fetcher.ts';
import { LeaderReplication, type ReplicaLag } from './replication.ts';
import {
  type BrokerRegistration,
  ClusterKeys,
  decode,
  type EndpointRecord,
  encode,
  type PartitionState,
  type ProducerIdsRecord,
  type TopicRecord,
} from './keys.ts';
import { registerBroker, resolveClusterId } from './membership.ts';
import { assignReplicas } from './placement.ts';
import type { ReplicationQuota } from '../quotas/replication-quota.ts';
import { Projection } from './projection.ts';
import { RACK_AWARE_REPLICA_SELECTOR, selectRackAwareReplica } from './read-replica.ts';
import { fullReplicaSet, startReassignment } from './reassignment.ts';

/** Pause between two attempts to register again after the lease was lost. */
const REREGISTER_RETRY_MS = 1_000;

export interface ClusterSettings {
  readonly endpoints: readonly string[];
  readonly prefix: string;
  readonly nodeId: number;
  readonly rack: string | null;
  /** `replica.selector.class` (KIP-392), null when unset. */
  readonly replicaSelector?: string | null;
  readonly sessionTimeoutMs: number;
  /** replica.lag.time.max.ms */
  readonly replicaLagMs: number;
  /** replica.high.watermark.checkpoint.interval.ms (default 5000). */
  readonly highWatermarkCheckpointMs?: number;
  /**
   * `auto.leader.rebalance.enable`: the controller's periodic preferred elections
   * (`leader.imbalance.check.interval.seconds`, `leader.imbalance.per.broker.percentage`); off
   * when absent or null.
   */
  readonly leaderRebalance?: { readonly intervalMs: number; readonly imbalancePercentage: number } | null;
  /**
   * The broker's `unclean.leader.election.enable`: the controller's rule for topics that do not
   * override it (absent: false, Kafka's default).
   */
  readonly uncleanLeaderElection?: boolean;
  /** The listener name followers dial their leaders on (`inter.broker.listener.name`). */
  readonly interBrokerListener: string;
  readonly fetcher: Omit<FetcherSettings, 'nodeId'>;
}

export interface ClusterTopicCreation {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly topicId?: string;
}

export class ClusterNode {
  readonly settings: ClusterSettings;
  readonly keys: ClusterKeys;
  readonly store: KvStore;
  readonly view: ClusterView;
  private readonly logger: Logger;
  private controller: Controller | null = null;
  private projection: Projection | null = null;
  private lease: LeaseKeeper | null = null;
  private registration: BrokerRegistration | null = null;
  private brokerEpochValue = -1;
  private stopped = false;
  private registry: TopicRegistry | null = null;
  /** The leader's side of replication, for the partitions this broker leads. */
  private replicationState: LeaderReplication | null = null;
  /** One fetcher per leader this broker follows partitions of. */
  private readonly fetchers = new Map<number, LeaderFetcher>();
  /** Bytes appended by fetchers since stopped (replicatedBytes stays cumulative). */
  private retiredFetcherBytes = 0;
  /** Unclean elections this broker wrote for ElectLeaders requests (the controller counts its own). */
  private uncleanElectionsRequested = 0;
  /** The follower replication quota every fetcher applies (set by the broker once its context exists). */
  private followerQuota: ReplicationQuota | null = null;
  /** Writes the high watermarks to replication-offset-checkpoint (high-watermark-checkpoint.ts). */
  private highWatermarkCheckpoints: NodeJS.Timeout | null = null;
  /** Called after every pass over the partitions' roles (leadership may have moved). */
  private readonly roleListeners: Array<() => void> = [];

  constructor(settings: ClusterSettings, logger: Logger, store?: KvStore, onEtcdRequest?: (operation: string, seconds: number) => void) {
    this.settings = settings;
    this.keys = new ClusterKeys(settings.prefix);
    this.store = store ?? new EtcdClient(settings.endpoints, onEtcdRequest);
    this.logger = logger;
    this.view = new ClusterView(this.store, this.keys, logger);
  }

  /** The cluster settings of a broker config, or null when cluster mode is off. */
  static settingsOf(config: BrokerConfig): ClusterSettings | null {
    const endpoints = config.list('sluice.metadata.etcd.endpoints');
    if (endpoints.length === 0) return null;
    const interBroker = config.interBrokerListener;
    return {
      endpoints,
      prefix: config.str('sluice.metadata.etcd.prefix'),
      nodeId: config.nodeId,
      rack: config.get('broker.rack') as string | null,
      replicaSelector: config.get('replica.selector.class') as string | null,
      sessionTimeoutMs: config.int('broker.session.timeout.ms'),
      replicaLagMs: config.int('replica.lag.time.max.ms'),
      uncleanLeaderElection: config.bool('unclean.leader.election.enable'),
      highWatermarkCheckpointMs: config.int('replica.high.watermark.checkpoint.interval.ms'),
      leaderRebalance: config.bool('auto.leader.rebalance.enable')
        ? {
            // setInterval takes at most 2^31-1 ms (about 24.8 days).
            intervalMs: Math.min(config.int('leader.imbalance.check.interval.seconds') * 1000, 2 ** 31 - 1),
            imbalancePercentage: config.int('leader.imbalance.per.broker.percentage'),
          }
        : null,
      interBrokerListener: interBroker.name,
      fetcher: {
        maxWaitMs: config.int('replica.fetch.wait.max.ms'),
        maxBytes: config.int('replica.fetch.response.max.bytes'),
        partitionMaxBytes: config.int('replica.fetch.max.bytes'),
        requestTimeoutMs: config.int('replica.socket.timeout.ms'),
        security: interBrokerConnection(config),
      },
    };
  }

  /**
   * The cluster's id, agreed through etcd: the stored one, else `proposed`. Fails with the
   * endpoints named when etcd cannot be reached, and for a data dir of another cluster.
   */
  async clusterId(proposed: string, local: string | null): Promise<string> {
    try {
      return await resolveClusterId(this.store, this.keys, proposed, local, this.settings.endpoints.join(','));
    } catch (err) {
      if (err instanceof KvStoreError)
        throw new Error(`cannot reach etcd (sluice.metadata.etcd.endpoints=${this.settings.endpoints.join(',')}): ${err.message}`, { cause: err });
      throw err;
    }
  }

  /**
   * Registers this broker, reads the cluster, publishes local topics etcd lacks, and starts the
   * projection and the controller. Call once the listeners are bound (they are advertised).
   */
  async join(listeners: readonly EndpointRecord[], directoryId: string, registry: TopicRegistry): Promise<void> {
    this.registration = { nodeId: this.settings.nodeId, listeners, rack: this.settings.rack, directoryId, registeredAt: Date.now() };
    await this.register();
    await this.view.start();
    this.projection = new Projection(this.view, registry, this.settings.nodeId, this.logger);
    await this.projection.start(this.store, this.brokerEpochValue);
    this.registry = registry;
    this.replicationState = new LeaderReplication(
      this.view,
      this.store,
      this.settings.nodeId,
      () => this.brokerEpochValue,
      this.settings.replicaLagMs,
      this.logger,
    );
    this.replicationState.start();
    this.highWatermarkCheckpoints = setInterval(
      () => {
        try {
          registry.writeHighWatermarkCheckpoints();
        } catch (err) {
          this.logger.error({ err }, 'writing replication-offset-checkpoint failed');
        }
      },
      Math.min(this.settings.highWatermarkCheckpointMs ?? 5000, 2 ** 31 - 1),
    );
    this.highWatermarkCheckpoints.unref();
    this.view.onChange(() => this.syncRoles());
    this.syncRoles();
    this.controller = new Controller(
      this.store,
      this.view,
      this.settings.nodeId,
      () => (this.fenced ? null : this.lease!.lease),
      this.logger,
      this.settings.leaderRebalance ?? null,
      this.settings.uncleanLeaderElection ?? false,
    );
    this.controller.start();
    this.logger.info(
      {
        nodeId: this.settings.nodeId,
        brokerEpoch: this.brokerEpochValue,
        brokers: this.view.liveBrokers().map((b) => b.nodeId),
        controller: this.view.controllerId,
      },
      'joined the cluster',
    );
  }

  /** This run's broker epoch (the registration's create revision); -1 while unregistered. */
  get brokerEpoch(): number {
    return this.brokerEpochValue;
  }

  /** True while this broker holds no valid lease: it leads nothing then. */
  get fenced(): boolean {
    return this.lease === null || this.lease.lost !== null || this.lease.remainingMs() === 0;
  }

  get isController(): boolean {
    return this.controller?.isActive ?? false;
  }

  /** Resolves once the controller's pending work is written (tests). */
  async settled(): Promise<void> {
    await this.controller?.settled();
  }

  /** The leader's side of replication (follower fetch offsets, high watermark, ISR changes). */
  get replication(): LeaderReplication {
    if (this.replicationState === null) throw new Error('BUG: replication before join');
    return this.replicationState;
  }

  /** Bytes this broker fetched from leaders and appended as follower, since start. */
  get replicatedBytes(): number {
    let bytes = this.retiredFetcherBytes;
    for (const f of this.fetchers.values()) bytes += f.bytesFetched;
    return bytes;
  }

  /** The leaders this broker's fetchers follow partitions on now. */
  get followedLeaders(): number[] {
    return [...this.fetchers.keys()].sort((a, b) => a - b);
  }

  /** What the metrics read at scrape time (metrics/cluster-probe.ts, ClusterStats). */
  stats(): {
    liveBrokers: number;
    isController: boolean;
    underReplicatedPartitions: number;
    offlinePartitions: number;
    leaderElections: number;
    uncleanLeaderElections: number;
    isrShrinks: number;
    isrExpands: number;
    replicaFetchedBytes: number;
    replicaLag: ReplicaLag[];
  } {
    const me = this.settings.nodeId;
    let underReplicated = 0;
    let offline = 0;
    for (const [name, { record }] of this.view.topics) {
      record.replicas.forEach((replicas, index) => {
        const state = this.view.partition(name, index)?.record;
        if (state === undefined) return;
        if (state.leader === me && state.isr.length < replicas.length) underReplicated++;
        if (state.leader < 0) offline++;
      });
    }
    return {
      liveBrokers: this.view.brokers.size,
      isController: this.isController,
      underReplicatedPartitions: underReplicated,
      offlinePartitions: this.isController ? offline : 0,
      leaderElections: this.controller?.elections ?? 0,
      uncleanLeaderElections: (this.controller?.uncleanElections ?? 0) + this.uncleanElectionsRequested,
      isrShrinks: this.replicationState?.isrShrinks ?? 0,
      isrExpands: this.replicationState?.isrExpands ?? 0,
      replicaFetchedBytes: this.replicatedBytes,
      replicaLag: this.replicationState?.replicaLag() ?? [],
    };
  }

  /** KIP-951: who leads a partition now, for NOT_LEADER_OR_FOLLOWER answers (-1/-1: unknown). */
  currentLeader(topic: string, index: number): { leaderId: number; leaderEpoch: number } {
    const state = this.view.partition(topic, index)?.record;
    return state === undefined ? { leaderId: -1, leaderEpoch: -1 } : { leaderId: state.leader, leaderEpoch: state.leaderEpoch };
  }

  /** A live broker's endpoint for a listener name (its first listener otherwise), or null. */
  endpointOf(nodeId: number, listenerName: string): { nodeId: number; host: string; port: number; rack: string | null } | null {
    const broker = this.view.brokers.get(nodeId);
    const listener = broker?.listeners.find((l) => l.name === listenerName) ?? broker?.listeners[0];
    if (broker === undefined || listener === undefined) return null;
    return { nodeId, host: listener.host, port: listener.port, rack: broker.rack };
  }

  /**
   * Calls `listener` after each pass that acts on leadership (a view change, fencing): the
   * coordinators load and unload the internal partitions they lead (isLeader) from it.
   */
  onRolesChanged(listener: () => void): void {
    this.roleListeners.push(listener);
  }

  /** True when the cluster says this broker leads the partition and its lease is valid. */
  isLeader(topic: string, index: number): boolean {
    return !this.fenced && this.view.partition(topic, index)?.record.leader === this.settings.nodeId;
  }

  /**
   * KIP-392: this broker holds a replica of the partition without leading it, and is not fenced:
   * it serves consumers' Fetch (v11+) up to the high watermark it learnt from the leader.
   */
  servesFollowerReads(topic: string, index: number): boolean {
    if (this.fenced) return false;
    return this.view.topics.get(topic)?.record.replicas[index]?.includes(this.settings.nodeId) ?? false;
  }

  /**
   * KIP-392, on the leader: the replica a consumer in `clientRack` should read `partition` from
   * at `fetchOffset` under `replica.selector.class` (this broker's id: here; -1 without a
   * rack-aware selector).
   */
  preferredReadReplica(partition: Partition, clientRack: string, fetchOffset: number): number {
    if (this.settings.replicaSelector !== RACK_AWARE_REPLICA_SELECTOR) return -1;
    const leader = { id: this.settings.nodeId, rack: this.settings.rack, logEnd: partition.logEndOffset };
    return selectRackAwareReplica(clientRack, leader, this.replication.readReplicaCandidates(partition, fetchOffset));
  }

  /**
   * Creates a topic in the cluster (validated by the caller): replicas placed over the live
   * brokers, each partition led by its first replica with every replica in sync (an empty log is
   * in sync), written in one transaction that requires the topic absent. Resolves once this
   * broker's view has it (and, if it is a replica, its local logs are open). `assignment`: the
   * replicas of each partition as CreateTopics named them (checked with checkManualAssignment
   * against the live brokers), instead of the placement.
   */
  async createTopic(
    name: string,
    partitions: number,
    replicationFactor: number,
    overrides: ReadonlyMap<string, ConfigValue>,
    assignment?: readonly (readonly number[])[],
  ): Promise<ClusterTopicCreation> {
    const brokers = this.view.liveBrokers();
    if (replicationFactor > brokers.length) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Replication factor: ${replicationFactor} larger than available brokers: ${brokers.length}.`,
      };
    }
    const replicas = assignment?.map((r) => [...r]) ?? assignReplicas(brokers, partitions, replicationFactor);
    const dead = replicas.flat().find((id) => !brokers.some((b) => b.nodeId === id));
    if (dead !== undefined) {
      return {
        errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        errorMessage: `The manual partition assignment includes broker ${dead}, but no such broker is registered.`,
      };
    }
    const epochs = new Map(brokers.map((b) => [b.nodeId, b.epoch]));
    const id = newTopicId();
    const record: TopicRecord = { id, configs: Object.fromEntries(overrides), replicas };
    const ops: Op[] = [{ put: { key: this.keys.topic(name), value: encode(record) } }];
    replicas.forEach((r, index) => {
      const state: PartitionState = {
        leader: r[0],
        leaderEpoch: 0,
        isr: r.map((nodeId) => ({ id: nodeId, brokerEpoch: epochs.get(nodeId)! })),
        partitionEpoch: 0,
      };
      ops.push({ put: { key: this.keys.partition(name, index), value: encode(state) } });
    });
    const written = await this.store.txn([{ key: this.keys.topic(name), target: 'version', result: 'equal', value: 0 }], ops);
    if (!written.succeeded) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
    await this.view.waitForRevision(written.revision);
    this.logger.info({ topic: name, topicId: id, replicas }, 'topic created in the cluster');
    return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: id };
  }

  /**
   * Deletes a topic from the cluster: its topic key and partition keys in one transaction that
   * compares the topic key's mod revision; every broker's projection then deletes its local
   * logs. Resolves once this broker's view no longer has it.
   */
  async deleteTopic(name: string): Promise<ClusterTopicCreation> {
    return this.casRetry(async () => {
      const current = this.view.topics.get(name);
      if (current === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic.' };
      const ops: Op[] = [{ delete: { key: this.keys.topic(name) } }];
      current.record.replicas.forEach((_, index) => {
        ops.push({ delete: { key: this.keys.partition(name, index) } });
        if (this.view.reassignment(name, index) !== undefined) ops.push({ delete: { key: this.keys.reassignment(name, index) } });
      });
      const written = await this.store.txn([{ key: this.keys.topic(name), target: 'modRevision', result: 'equal', value: current.modRevision }], ops);
      if (!written.succeeded) return null;
      await this.view.waitForRevision(written.revision);
      this.logger.info({ topic: name, topicId: current.record.id }, 'topic deleted from the cluster');
      return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: current.record.id };
    });
  }

  /** Replaces a topic's config overrides in the cluster (CAS on the topic key's mod revision). */
  async alterTopicConfigs(name: string, overrides: ReadonlyMap<string, ConfigValue>): Promise<ClusterTopicCreation> {
    return this.casRetry(async () => {
      const current = this.view.topics.get(name);
      if (current === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic '${name}' does not exist.` };
      const record: TopicRecord = { ...current.record, configs: Object.fromEntries(overrides) };
      const key = this.keys.topic(name);
      const written = await this.store.txn(
        [{ key, target: 'modRevision', result: 'equal', value: current.modRevision }],
        [{ put: { key, value: encode(record) } }],
      );
      if (!written.succeeded) return null;
      await this.view.waitForRevision(written.revision);
      this.logger.info({ topic: name, configs: record.configs }, 'topic configs altered in the cluster');
      return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: current.record.id };
    });
  }

  /**
   * Raises a topic's partition count: the new partitions placed over the live brokers with the
   * topic's replication factor, written with the topic record (CAS on its mod revision).
   */
  async addPartitions(name: string, count: number): Promise<ClusterTopicCreation> {
    return this.casRetry(async () => {
      const current = this.view.topics.get(name);
      if (current === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${name}' does not exist.` };
      if (count <= current.record.replicas.length)
        return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `Topic already has ${current.record.replicas.length} partitions.` };
      const existing = current.record.replicas;
      const rf = existing[0]?.length ?? 1;
      const brokers = this.view.liveBrokers();
      if (rf > brokers.length)
        return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: `Replication factor: ${rf} larger than available brokers: ${brokers.length}.` };
      const added = assignReplicas(brokers, count, rf).slice(existing.length);
      const epochs = new Map(brokers.map((b) => [b.nodeId, b.epoch]));
      const record: TopicRecord = { ...current.record, replicas: [...existing, ...added] };
      const ops: Op[] = [{ put: { key: this.keys.topic(name), value: encode(record) } }];
      added.forEach((r, i) => {
        const state: PartitionState = { leader: r[0], leaderEpoch: 0, isr: r.map((id) => ({ id, brokerEpoch: epochs.get(id)! })), partitionEpoch: 0 };
        ops.push({ put: { key: this.keys.partition(name, existing.length + i), value: encode(state) } });
      });
      const written = await this.store.txn([{ key: this.keys.topic(name), target: 'modRevision', result: 'equal', value: current.modRevision }], ops);
      if (!written.succeeded) return null;
      await this.view.waitForRevision(written.revision);
      this.logger.info({ topic: name, partitions: count }, 'partitions added in the cluster');
      return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: current.record.id };
    });
  }

  /**
   * Preferred-leader election of one partition (ElectLeaders): its first replica leads in a new
   * leader epoch when it is live and in sync (election.ts). NONE, ELECTION_NOT_NEEDED,
   * PREFERRED_LEADER_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION.
   */
  async electPreferredLeader(name: string, index: number): Promise<ClusterTopicCreation> {
    return this.electLeader(
      name,
      index,
      electPreferredLeader,
      ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE,
      'PreferredReplicaPartitionLeaderElectionStrategy',
      (_, next) => this.logger.info({ topic: name, partition: index, leader: next.leader, leaderEpoch: next.leaderEpoch }, 'preferred leader elected'),
    );
  }

  /**
   * Unclean election of one partition (ElectLeaders type UNCLEAN; election.ts
   * electUncleanLeader): with no live leader, a live ISR member leads, else the first live replica
   * with the ISR reset to it — records only the lost replicas had are gone. NONE,
   * ELECTION_NOT_NEEDED, ELIGIBLE_LEADERS_NOT_AVAILABLE or UNKNOWN_TOPIC_OR_PARTITION.
   */
  async electUncleanLeader(name: string, index: number): Promise<ClusterTopicCreation> {
    return this.electLeader(name, index, electUncleanLeader, ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, 'UncleanLeaderElectionStrategy', (current, next) => {
      const unclean = isUncleanElection(current, next);
      if (unclean) this.uncleanElectionsRequested++;
      this.logger[unclean ? 'warn' : 'info'](
        { topic: name, partition: index, leader: next.leader, leaderEpoch: next.leaderEpoch, previousIsr: current.isr.map((m) => m.id) },
        unclean
          ? 'unclean leader election (ElectLeaders): an out-of-sync replica leads'
          : 'leader elected (ElectLeaders, unclean type: an ISR member was live)',
      );
    });
  }

  /**
   * An ElectLeaders election of one partition, written from this broker by CAS on the partition
   * key (its mod revision), retried on a lost race: `decide` (election.ts) picks the next state;
   * `elected` runs once the view has it.
   */
  private electLeader(
    name: string,
    index: number,
    decide: (current: PartitionState, replicas: readonly number[], brokers: ReadonlyMap<number, LiveBroker>) => PartitionState | 'not needed' | 'not available',
    notAvailable: number,
    strategy: string,
    elected: (current: PartitionState, next: PartitionState) => void,
  ): Promise<ClusterTopicCreation> {
    return this.casRetry(async () => {
      const replicas = this.view.topics.get(name)?.record.replicas[index];
      const current = this.view.partition(name, index);
      if (replicas === undefined || current === undefined)
        return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${name}-${index}` };
      const next = decide(current.record, replicas, this.view.brokers);
      if (next === 'not needed') return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: null };
      if (next === 'not available')
        return { errorCode: notAvailable, errorMessage: `Failed to elect leader for partition ${name}-${index} under strategy ${strategy}` };
      const key = this.keys.partition(name, index);
      const written = await this.store.txn(
        [{ key, target: 'modRevision', result: 'equal', value: current.modRevision }],
        [{ put: { key, value: encode(next) } }],
      );
      if (!written.succeeded) return null;
      await this.view.waitForRevision(written.revision);
      elected(current.record, next);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
  }

  /**
   * Starts (or changes, or cancels with a null target) reassignments of partitions of one topic
   * (validated by the caller; reassignment.ts): the topic record's replicas become the full
   * replica sets and a reassignment record per partition is written, in one transaction on the
   * topic key's mod revision and each reassignment key's. Answers per partition index.
   */
  async reassignPartitions(
    name: string,
    changes: ReadonlyArray<{ index: number; target: readonly number[] | null }>,
  ): Promise<Map<number, ClusterTopicCreation>> {
    const outcomes = new Map<number, ClusterTopicCreation>();
    const done = await this.casRetry(async () => {
      outcomes.clear();
      const current = this.view.topics.get(name);
      if (current === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Unable to find a topic named ${name}.` };
      const replicas = current.record.replicas.map((r) => [...r]);
      const compares: Compare[] = [{ key: this.keys.topic(name), target: 'modRevision', result: 'equal', value: current.modRevision }];
      const ops: Op[] = [];
      for (const { index, target } of changes) {
        const existing = this.view.reassignment(name, index);
        const next = startReassignment(replicas[index]!, existing?.record, target);
        if (next === 'none in progress') {
          outcomes.set(index, { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: null });
          continue;
        }
        outcomes.set(index, { errorCode: ErrorCode.NONE, errorMessage: null });
        if (next === null) continue;
        const key = this.keys.reassignment(name, index);
        compares.push(
          existing === undefined
            ? { key, target: 'version', result: 'equal', value: 0 }
            : { key, target: 'modRevision', result: 'equal', value: existing.modRevision },
        );
        replicas[index] = fullReplicaSet(next);
        ops.push({ put: { key, value: encode(next) } });
      }
      if (ops.length === 0) return { errorCode: ErrorCode.NONE, errorMessage: null };
      const record: TopicRecord = { ...current.record, replicas };
      ops.unshift({ put: { key: this.keys.topic(name), value: encode(record) } });
      const written = await this.store.txn(compares, ops);
      if (!written.succeeded) return null;
      await this.view.waitForRevision(written.revision);
      this.logger.info({ topic: name, partitions: changes.map((c) => ({ index: c.index, target: c.target })) }, 'partition reassignment started');
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
    if (done.errorCode !== ErrorCode.NONE) for (const { index } of changes) outcomes.set(index, done);
    return outcomes;
  }

  /**
   * Runs a read-decide-CAS step until its transaction wins (null: lost to a concurrent write,
   * decided again once the view has that write), at most a few times.
   */
  private async casRetry(step: () => Promise<ClusterTopicCreation | null>): Promise<ClusterTopicCreation> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const outcome = await step();
      if (outcome !== null) return outcome;
      await new Promise((r) => setTimeout(r, 20 * (attempt + 1)));
    }
    return { errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: 'the topic kept changing concurrently; retry' };
  }

  /**
   * Reserves `size` producer ids for this broker: the block at the cluster's next block start
   * (never below `floor`, what this data dir handed out as a single node), by CAS on
   * `<prefix>/producer-ids`; a lost race reads again. Resolves with the block's first id.
   */
  /** The follower replication throttle the fetchers apply (replica-fetcher.ts). */
  useFollowerQuota(quota: ReplicationQuota): void {
    this.followerQuota = quota;
  }

  async reserveProducerIds(size: number, floor: number): Promise<number> {
    const key = this.keys.producerIds;
    for (;;) {
      const current = await this.store.get(key);
      const stored = current === null ? 0 : decode<ProducerIdsRecord>(key, current.value).nextBlockStart;
      const start = Math.max(stored, floor);
      const compare: Compare =
        current === null ? { key, target: 'version', result: 'equal', value: 0 } : { key, target: 'modRevision', result: 'equal', value: current.modRevision };
      const written = await this.store.txn([compare], [{ put: { key, value: encode({ nextBlockStart: start + size }) } }]);
      if (written.succeeded) return start;
    }
  }

  /**
   * Leaves the cluster: stops the controller and the projection and revokes the lease, so the
   * registration (and the controllership, if held) goes at once and the controller moves
   * leadership away without waiting for the session timeout. Bounded by `timeoutMs`.
   */
  async stop(timeoutMs = 3_000): Promise<void> {
    this.stopped = true;
    if (this.highWatermarkCheckpoints !== null) clearInterval(this.highWatermarkCheckpoints);
    this.controller?.stop();
    this.projection?.stop();
    this.replicationState?.stop();
    for (const f of this.fetchers.values()) f.stop();
    this.fetchers.clear();
    const lease = this.lease;
    if (lease !== null) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        lease.revoke().catch((err: unknown) => this.logger.warn({ err }, 'revoking the lease at stop failed; it expires on its own')),
        new Promise((r) => {
          timer = setTimeout(r, timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      lease.stop();
    }
    this.view.close();
    this.store.close();
  }

  /**
   * Acts on the leadership of the local partitions (after the projection ran): a partition led
   * here is replicated by the leader side; one led elsewhere is fetched from its leader.
   */
  private syncRoles(): void {
    if (this.stopped || this.registry === null || this.replicationState === null) return;
    const me = this.settings.nodeId;
    const follow = new Map<number, FollowedPartition[]>();
    for (const [name, { record }] of this.view.topics) {
      const local = this.registry.get(name);
      if (local === undefined) continue;
      record.replicas.forEach((replicas, index) => {
        const partition = local.partitions[index];
        const state = this.view.partition(name, index)?.record;
        if (partition === undefined || state === undefined) return;
        if (!replicas.includes(me)) {
          // Reassigned away: neither led nor followed here any more.
          this.replicationState!.resigned(partition);
          return;
        }
        partition.setReplicated();
        if (state.leader === me) {
          this.replicationState!.becameLeader(partition, state.leaderEpoch);
          return;
        }
        this.replicationState!.resigned(partition);
        // The fetcher of the leader truncates this log where it diverges from the leader's (the
        // diverging epoch of its Fetch answers).
        if (state.leader < 0 || !this.view.brokers.has(state.leader)) return;
        if (!follow.has(state.leader)) follow.set(state.leader, []);
        follow.get(state.leader)!.push({ partition, leaderEpoch: state.leaderEpoch });
      });
    }
    for (const [leaderId, fetcher] of this.fetchers) {
      if (follow.has(leaderId) && !this.fenced) continue;
      fetcher.stop();
      this.retiredFetcherBytes += fetcher.bytesFetched;
      this.fetchers.delete(leaderId);
    }
    this.notifyRoles();
    if (this.fenced) return;
    for (const [leaderId, partitions] of follow) {
      const leaderListeners = this.view.brokers.get(leaderId)!.listeners;
      const endpoint = leaderListeners.find((l) => l.name === this.settings.interBrokerListener) ?? leaderListeners[0];
      if (endpoint === undefined) continue;
      let fetcher = this.fetchers.get(leaderId);
      if (fetcher === undefined) {
        fetcher = new LeaderFetcher(leaderId, endpoint, { ...this.settings.fetcher, nodeId: me, quota: () => this.followerQuota }, this.logger);
        this.fetchers.set(leaderId, fetcher);
        fetcher.start();
      }
      fetcher.assign(partitions, endpoint);
    }
  }

  private notifyRoles(): void {
    for (const listener of this.roleListeners) {
      try {
        listener();
      } catch (err) {
        this.logger.error({ err }, 'a leadership listener failed');
      }
    }
  }

  private async register(): Promise<void> {
    if (this.registration === null) throw new Error('BUG: registering before join');
    const ttlSeconds = Math.max(1, Math.ceil(this.settings.sessionTimeoutMs / 1000));
    const registered = await registerBroker(this.store, this.keys, { ...this.registration, registeredAt: Date.now() }, ttlSeconds, this.logger, (reason) =>
      this.onLeaseLost(reason),
    );
    this.lease = registered.lease;
    this.brokerEpochValue = registered.epoch;
  }

  private onLeaseLost(reason: string): void {
    if (this.stopped) return;
    this.logger.error({ reason }, 'lost the cluster lease: fenced (leading nothing) until registered again');
    // Fenced: the coordinators unload what they led, fetchers stop until registered again.
    this.syncRoles();
    const retry = async () => {
      if (this.stopped) return;
      try {
        await this.register();
        this.logger.info({ brokerEpoch: this.brokerEpochValue }, 'registered again after losing the lease');
        // The fetchers stopped while fenced. The view's event for the new registration may have
        // run before the lease was ours again (still fenced then), and no later change may come:
        // restart following now.
        this.syncRoles();
        this.controller?.poke();
      } catch (err) {
        this.logger.warn({ err }, 'registering again failed; retrying');
        setTimeout(() => void retry(), REREGISTER_RETRY_MS).unref();
      }
    };
    void retry();
  }
}

// What handlers share, one per broker: configuration, identity, the topic registry, and the
// broker's services, each in its own module — topic creation (topic-creation.ts), the group
// coordinator (groups/), the metrics probes (metrics/), the delayed operations (delayed/), the
// shutdown signal (shutdown.ts), producer ids. It holds and wires them; it decides nothing itself.
//
// Layering (README, layering.test.ts): this is handler-level code. The core (topics, partition,
// config, …), groups/ and metrics/ never import it; they get what they need passed in. The
// connection only hands it to the handlers.

import type { ClusterNode } from './cluster/cluster-node.ts';
import type { BrokerConfig, Listener } from './config.ts';
import { DelayedOperations } from './delayed/delayed-operations.ts';
import { DynamicBrokerConfigs, FileDynamicBrokerConfigStore, type MemoryDynamicBrokerConfigStore } from './dynamic-broker-configs.ts';
import { FeatureLevels } from './features.ts';
import { FetchSessionCache } from './fetch-session-cache.ts';
import type { GroupCoordinator } from './groups/coordinator.ts';
import type { Logger } from './logger.ts';
import { BrokerMetrics } from './metrics/broker-metrics.ts';
import type { Partition } from './partition.ts';
import { ProducerIdManager } from './producer-ids.ts';
import { type AclStore, FileAclStore } from './security/acl/acl-store.ts';
import { StandardAuthorizer } from './security/acl/authorizer.ts';
import { authorizerEnabled, parseSuperUsers } from './security/acl/authorizer-config.ts';
import { DenialLogLimiter } from './security/acl/denial-log.ts';
import { ClientQuotas } from './quotas/client-quota-manager.ts';
import { FileClientQuotaStore, type MemoryClientQuotaStore } from './quotas/client-quota-store.ts';
import { ReplicationQuota, type ReplicationQuotas, THROTTLED_RATE_CONFIG } from './quotas/replication-quota.ts';
import { FileScramCredentialStore, type ScramCredentialStore } from './security/sasl/scram-credential-store.ts';
import type { ShareCoordinator } from './share/share-coordinator.ts';
import { ShutdownSignal } from './shutdown.ts';
import { TopicCreator } from './topic-creation.ts';
import type { TopicRegistry } from './topics.ts';
import type { TransactionCoordinator } from './transactions/coordinator.ts';
import type { PartitionMarkerWriter } from './transactions/partition-marker-writer.ts';
import type { RemoteTxnVerifier } from './transactions/remote-verification.ts';

/**
 * Cluster mode: the ACL, SCRAM credential, client quota, dynamic broker config and feature
 * level stores shared through etcd (cluster/stores/), used instead of the first log dir's files.
 */
export interface SharedStores {
  readonly acls: AclStore;
  readonly scramCredentials: ScramCredentialStore;
  readonly clientQuotas: MemoryClientQuotaStore;
  readonly dynamicBrokerConfigs: MemoryDynamicBrokerConfigStore;
  readonly features: FeatureLevels;
}

export class BrokerContext {
  readonly config: BrokerConfig;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly topics: TopicRegistry;
  readonly logger: Logger;
  /** CreateTopics' validations, and auto-creation on Metadata (internal topics by their owner). */
  readonly topicCreator: TopicCreator;
  /** Producer ids for InitProducerId, reserved in blocks in the first log dir. */
  readonly producerIds: ProducerIdManager;
  /** Feature levels (ApiVersions v3+, UpdateFeatures), kept in the first log dir (cluster mode: etcd). */
  readonly features: FeatureLevels;
  /** The metrics probes (metrics/): handlers report what happened through them. */
  readonly metrics: BrokerMetrics;
  /**
   * The ACL authorizer when `authorizer.class.name` names one (ACLs in `sluice-acls.json` of the
   * first log dir; in cluster mode, in etcd), else null: every check passes, as Kafka without an
   * authorizer. Handlers ask it through handlers/authorization.ts.
   */
  readonly authorizer: StandardAuthorizer | null;
  /** Which denials get a log line (once per principal, host, operation and resource per minute). */
  readonly denialLog = new DenialLogLimiter();
  /**
   * SCRAM credentials (`sluice-scram-credentials.json`, first log dir; in cluster mode, etcd):
   * what SCRAM logins check, what Describe/AlterUserScramCredentials read and change.
   */
  readonly scramCredentials: ScramCredentialStore;
  /**
   * Client quotas (`sluice-client-quotas.json`, first log dir; in cluster mode, etcd) and their
   * enforcement: what Describe/AlterClientQuotas read and change, what Produce, Fetch, the topic
   * mutations and the connection (request time) record and throttle by.
   */
  readonly quotas: ClientQuotas;
  /**
   * Dynamic broker configs (`sluice-dynamic-broker-configs.json`, first log dir; in cluster mode,
   * etcd): what (Incremental)AlterConfigs on BROKER resources change and DescribeConfigs shows.
   */
  readonly dynamicConfigs: DynamicBrokerConfigs;
  /** The replication throttles (leader and follower side), their rates read from dynamicConfigs. */
  readonly replicationQuotas: ReplicationQuotas;
  /** Raised when a graceful stop begins. */
  readonly shutdown = new ShutdownSignal();
  /**
   * Parked Fetch requests, watched per partition: checked (coalesced per event-loop turn) when a
   * partition's offsets move, answered at once when a graceful stop begins.
   */
  readonly delayedFetches = new DelayedOperations<Partition>();
  /** Incremental fetch sessions (KIP-227), `max.incremental.fetch.session.cache.slots` of them. */
  readonly fetchSessions: FetchSessionCache;
  /**
   * Cluster mode: Produce requests with acks=-1 waiting for the ISR (Kafka's DelayedProduce),
   * watched per partition: checked when a partition's high watermark moves.
   */
  readonly delayedProduces = new DelayedOperations<Partition>();
  /** Where clients should connect (the advertised listener of the connection's listener). */
  private advertised: readonly Listener[];
  private apiVersionTable: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }> = [];
  private groupCoordinator: GroupCoordinator | null = null;
  private shareCoordinator: ShareCoordinator | null = null;
  private clusterNode: ClusterNode | null = null;
  private transactionCoordinator: TransactionCoordinator | null = null;
  private markerWriter: PartitionMarkerWriter | null = null;
  private remoteVerifier: RemoteTxnVerifier | null = null;

  constructor(config: BrokerConfig, clusterId: string, topics: TopicRegistry, logger: Logger, metrics?: BrokerMetrics, shared?: SharedStores) {
    this.config = config;
    this.metrics = metrics ?? new BrokerMetrics({ appendMode: config.str('sluice.log.append.mode') as 'mmap' | 'pwrite' });
    this.clusterId = clusterId;
    this.nodeId = config.nodeId;
    this.topics = topics;
    this.logger = logger;
    this.topicCreator = new TopicCreator(config, topics, logger);
    this.advertised = config.advertisedListeners;
    this.producerIds = new ProducerIdManager(config.logDirs[0]);
    this.features = shared?.features ?? new FeatureLevels(config.logDirs[0], config.nodeId);
    this.scramCredentials = shared?.scramCredentials ?? new FileScramCredentialStore(config.logDirs[0]);
    const window = (prefix: string) => ({
      samples: config.int(`${prefix}quota.window.num`),
      windowMs: config.int(`${prefix}quota.window.size.seconds`) * 1000,
    });
    this.quotas = new ClientQuotas(shared?.clientQuotas ?? new FileClientQuotaStore(config.logDirs[0]), window(''), window('controller.'));
    this.dynamicConfigs = new DynamicBrokerConfigs(config, shared?.dynamicBrokerConfigs ?? new FileDynamicBrokerConfigStore(config.logDirs[0]));
    const replicationWindow = window('replication.');
    this.replicationQuotas = {
      leader: new ReplicationQuota('leader', config.nodeId, replicationWindow, () => this.dynamicConfigs.num(THROTTLED_RATE_CONFIG.leader)),
      follower: new ReplicationQuota('follower', config.nodeId, replicationWindow, () => this.dynamicConfigs.num(THROTTLED_RATE_CONFIG.follower)),
    };
    this.fetchSessions = new FetchSessionCache({ maxSlots: config.int('max.incremental.fetch.session.cache.slots') });
    this.metrics.fetchSessions.watch(this.fetchSessions);
    this.authorizer = authorizerEnabled(config.str('authorizer.class.name'))
      ? new StandardAuthorizer(shared?.acls ?? new FileAclStore(config.logDirs[0]), {
          superUsers: parseSuperUsers(config.str('super.users')),
          allowEveryoneIfNoAclFound: config.bool('allow.everyone.if.no.acl.found'),
        })
      : null;
    topics.onPartitionChange((partition) => {
      this.delayedFetches.checkSoon(partition);
      this.delayedProduces.checkSoon(partition);
    });
    this.shutdown.onShutdown(() => {
      this.delayedFetches.shutdown();
      this.delayedProduces.shutdown();
    });
  }

  /**
   * Once bound: without explicit `advertised.listeners`, advertise what was actually bound (a
   * listener on port 0 gets its real port).
   */
  useBoundListeners(bound: ReadonlyArray<Listener & { boundPort: number }>): void {
    const explicit = this.config.explicitlyAdvertised;
    this.advertised = this.advertised.map((l) => {
      if (explicit.has(l.name)) return l;
      const b = bound.find((x) => x.name === l.name);
      return b === undefined ? l : { ...l, port: b.boundPort };
    });
  }

  /** The group coordinator (groups and committed offsets), set once it has loaded. */
  get groups(): GroupCoordinator {
    if (this.groupCoordinator === null) throw new Error('BUG: the group coordinator is not loaded yet');
    return this.groupCoordinator;
  }

  useGroupCoordinator(coordinator: GroupCoordinator): void {
    this.groupCoordinator = coordinator;
  }

  /** The share coordinator (KIP-932 share groups and share-partition state), set once loaded. */
  get share(): ShareCoordinator {
    if (this.shareCoordinator === null) throw new Error('BUG: the share coordinator is not loaded yet');
    return this.shareCoordinator;
  }

  useShareCoordinator(coordinator: ShareCoordinator): void {
    this.shareCoordinator = coordinator;
  }

  /** Cluster mode: this broker's part in the cluster (view, leadership); null on a single node. */
  get cluster(): ClusterNode | null {
    return this.clusterNode;
  }

  /** Cluster mode: set once the broker has joined; replication factors then count live brokers. */
  useCluster(cluster: ClusterNode): void {
    this.clusterNode = cluster;
    this.topicCreator.useBrokerCount(() => cluster.view.brokers.size);
    this.producerIds.useBlockSource((size, floor) => cluster.reserveProducerIds(size, floor));
    cluster.useFollowerQuota(this.replicationQuotas.follower);
  }

  /** Every advertised listener as clients dial it (what a cluster registration publishes). */
  advertisedEndpoints(): Listener[] {
    return this.advertised.map((l) => this.advertisedFor(l.name));
  }

  /**
   * The transaction coordinator, set at start (it answers COORDINATOR_LOAD_IN_PROGRESS until
   * `__transaction_state` is replayed and every prepared transaction completed).
   */
  get transactions(): TransactionCoordinator {
    if (this.transactionCoordinator === null) throw new Error('BUG: the transaction coordinator is not set yet');
    return this.transactionCoordinator;
  }

  /** How markers reach local partitions (the coordinator's, and WriteTxnMarkers'). */
  get markers(): PartitionMarkerWriter {
    if (this.markerWriter === null) throw new Error('BUG: the transaction marker writer is not set yet');
    return this.markerWriter;
  }

  /** Cluster mode: asks coordinators on other brokers to verify transactional produces (KIP-890). */
  get txnVerifier(): RemoteTxnVerifier {
    if (this.remoteVerifier === null) throw new Error('BUG: no remote transaction verifier (single node, or not set yet)');
    return this.remoteVerifier;
  }

  useTransactionCoordinator(coordinator: TransactionCoordinator, markers: PartitionMarkerWriter, verifier: RemoteTxnVerifier | null = null): void {
    this.transactionCoordinator = coordinator;
    this.markerWriter = markers;
    this.remoteVerifier = verifier;
  }

  /** The ApiVersions table, set once the handler registry exists. */
  setApiVersions(table: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }>): void {
    this.apiVersionTable = table;
  }

  apiVersions(): ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }> {
    return this.apiVersionTable;
  }

  advertisedFor(listenerName: string): Listener {
    const match = this.advertised.find((l) => l.name === listenerName) ?? this.advertised[0];
    // A wildcard bind address means nothing to a client; advertise loopback instead.
    if (match.host === '' || match.host === '0.0.0.0' || match.host === '::') {
      return { ...match, host: '127.0.0.1' };
    }
    return match;
  }
}

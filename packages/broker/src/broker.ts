// The embeddable broker: `await new Broker(config).start()` ... `await broker.stop()`.
// Start order matters: data dirs and identity, then recovery and topic loading, and only then
// the listeners bind, so no client ever sees a half-loaded broker.
//
// Stop is graceful (SIGTERM): stop accepting, stop reading requests, let the requests in flight
// finish and their responses go out (parked fetches answer at once), bounded by
// `sluice.shutdown.timeout.ms`; then close connections, flush and close every log, and write the
// clean-shutdown marker, so the next start scans nothing.
//
// Connection limits, as Kafka's ConnectionQuotas: past `max.connections.per.ip` a new connection
// from that address is closed at once; at `max.connections` new connections wait, unread, until
// one closes (Kafka stops accepting and leaves them in the listen backlog; here they wait in a
// queue bounded like that backlog, and past it they are closed).

import { mkdirSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { ConnectionWriter, ktlsProbe, type LogDirLock, lockLogDir, type TlsEvent, type WriterEvent, type WriterStats } from '@sluice/native';
import { ErrorCode } from '@sluice/protocol';
import { BrokerConfig, ConfigError, type Listener, usesTls } from './config.ts';
import { BrokerContext, type SharedStores } from './broker-context.ts';
import type { ClusterNode } from './cluster/cluster-node.ts';
import { Connection, type ConnectionOptions } from './connection.ts';
import { ConnectionSession } from './connection-session.ts';
import type { ListenerAuth } from './security/listener-auth.ts';
import { isSaslProtocol } from './security/listener-security.ts';
import { GroupCoordinator } from './groups/coordinator.ts';
import { groupCoordinatorConfig } from './groups/config.ts';
import { type OffsetsReplication, OffsetsTopicLog } from './groups/offsets-topic-log.ts';
import type { TopicImages } from './groups/consumer-group-manager.ts';
import { shareGroupConfig } from './share/config.ts';
import { ShareCoordinator } from './share/share-coordinator.ts';
import { SHARE_STATE_TOPIC } from './share/share-state-records.ts';
import { ShareStateTopicLog } from './share/share-state-log.ts';
import { OFFSETS_TOPIC } from './groups/partitioning.ts';
import { advertisedApiVersions, createHandlerRegistry, type HandlerRegistry } from './handlers/index.ts';
import { topicImages as clusterTopicImages } from './handlers/known-partitions.ts';
import { LogCleaner } from './log-cleaner.ts';
import { createLogger, type Logger } from './logger.ts';
import { loadOrFormatMetaProperties, newClusterId, readMetaProperties } from './meta-properties.ts';
import { BrokerMetrics } from './metrics/broker-metrics.ts';
import { type MetricsListener, parseMetricsListener } from './metrics-listener.ts';
import { MetricsServer } from './metrics/metrics-server.ts';
import type { TlsListenerConfig } from './tls-listener.ts';
import { TopicRegistry } from './topics.ts';
import { systemClock } from './clock.ts';
import { transactionCoordinatorConfig } from './transactions/config.ts';
import { TransactionCoordinator } from './transactions/coordinator.ts';
import { PartitionMarkerWriter } from './transactions/partition-marker-writer.ts';
import { InterBrokerConnections } from './transactions/inter-broker-connections.ts';
import { RemoteMarkerSender } from './transactions/remote-markers.ts';
import { RemoteTxnVerifier } from './transactions/remote-verification.ts';
import { TRANSACTION_STATE_TOPIC, type TransactionStateReplication, TransactionStateTopicLog } from './transactions/transaction-state-log.ts';

export interface BoundListener extends Listener {
  /** The port actually bound (differs from `port` when it was 0). */
  readonly boundPort: number;
}

export type BrokerSettings = BrokerConfig | Record<string, string | number | boolean | string[]>;

/** Listen backlog, and the bound of the queue of connections waiting for a slot. */
const ACCEPT_BACKLOG = 1024;

/** Graceful stop: how long peers get to close their side after the broker's FIN. */
const LINGER_MS = 300;

/** A connection accepted while the broker was at `max.connections`. */
interface WaitingSocket {
  readonly socket: Socket;
  readonly listener: Listener;
  /** Removes the waiting-time listeners before the socket becomes a Connection. */
  readonly detach: () => void;
}

export class Broker {
  readonly config: BrokerConfig;
  readonly logger: Logger;
  /** Probes and registry; the HTTP endpoint (`sluice.metrics.listener`) serves them. */
  readonly metrics: BrokerMetrics;
  private metricsServer: MetricsServer | null = null;
  private context: BrokerContext | null = null;
  /** Cluster mode (`sluice.metadata.etcd.endpoints` set): membership, view, controller. */
  private cluster: ClusterNode | null = null;
  private topics: TopicRegistry | null = null;
  private groups: GroupCoordinator | null = null;
  private share: ShareCoordinator | null = null;
  private transactions: TransactionCoordinator | null = null;
  private interBroker: InterBrokerConnections[] = [];
  private writer: ConnectionWriter | null = null;
  /** Each SSL / SASL_SSL listener's TLS config, by listener name. */
  private readonly tls = new Map<string, TlsListenerConfig>();
  private handlers: HandlerRegistry | null = null;
  private readonly servers: Server[] = [];
  private readonly connections = new Map<number, Connection>();
  /** Open connections per remote address, for `max.connections.per.ip`. */
  private readonly connectionsPerIp = new Map<string, number>();
  private readonly waitingForSlot: WaitingSocket[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private cleaner: LogCleaner | null = null;
  /** `<logdir>/.lock` of every log dir, held from start to the end of stop. */
  private logDirLocks: LogDirLock[] = [];
  private nextConnectionId = 1;
  private boundListeners: BoundListener[] = [];
  /** Each listener's authentication settings, by listener name, resolved at start. */
  private readonly listenerAuths = new Map<string, ListenerAuth>();
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';

  constructor(settings: BrokerSettings = {}, logger?: Logger) {
    this.config = settings instanceof BrokerConfig ? settings : new BrokerConfig(Object.entries(settings));
    this.logger = logger ?? createLogger(this.config.str('sluice.log.level'));
    this.metrics = new BrokerMetrics({ appendMode: this.config.str('sluice.log.append.mode') as 'mmap' | 'pwrite' });
  }

  /** The URL Prometheus should scrape, or null when `sluice.metrics.listener` is empty. */
  get metricsUrl(): string | null {
    return this.metricsServer?.url ?? null;
  }

  get listeners(): readonly BoundListener[] {
    return this.boundListeners;
  }

  /** host:port of the first listener, as clients should dial it. */
  get bootstrap(): string {
    const l = this.boundListeners[0];
    if (l === undefined) throw new Error('broker is not running');
    const host = l.host === '' || l.host === '0.0.0.0' || l.host === '::' ? '127.0.0.1' : l.host;
    return `${host}:${l.boundPort}`;
  }

  get broker(): BrokerContext {
    if (this.context === null) throw new Error('broker is not running');
    return this.context;
  }

  /** The native writer's counters (bytes and syscalls per transfer mode), read in one call. */
  transferStats(): WriterStats {
    if (this.writer === null) throw new Error('broker is not running');
    return this.writer.stats();
  }

  async start(): Promise<this> {
    if (this.state !== 'new') throw new Error(`cannot start a broker that is ${this.state}`);
    this.state = 'starting';
    const started = performance.now();
    const logger = this.logger;
    await this.resolveListenerAuth();
    // The metrics endpoint binds first: an unusable address fails the start before any log is
    // opened. Until the broker's parts are attached, a scrape shows only counted events.
    await this.startMetricsServer();
    for (const dir of this.config.logDirs) mkdirSync(dir, { recursive: true });
    await this.lockLogDirs();
    const clusterId = loadOrFormatMetaProperties(this.config.logDirs[0], this.config.nodeId, await this.agreeClusterId());
    const sharedStores = await this.openSharedStores();
    const topics = new TopicRegistry(this.config, logger.child({ subsystem: 'topics' }));
    const loaded = topics.load();
    // One line that says whether the last stop was clean: after SIGTERM both counts are 0.
    logger.info(loaded, 'logs loaded');
    this.metrics.log.recoveryFinished(loaded.loadMs);
    this.topics = topics;
    const context = new BrokerContext(this.config, clusterId, topics, logger.child({ subsystem: 'handlers' }), this.metrics, sharedStores ?? undefined);
    this.handlers = createHandlerRegistry();
    context.setApiVersions(advertisedApiVersions(this.handlers));
    this.context = context;
    // Committed offsets and group metadata are replayed from __consumer_offsets before any
    // client can connect; the coordinator's timers are unref'd.
    const groupsLogger = logger.child({ subsystem: 'groups' });
    const offsetsGroupLog = new OffsetsTopicLog(
      { config: this.config, topics, topicCreator: context.topicCreator, replication: () => this.offsetsReplication(context) },
      groupsLogger,
    );
    // Auto-creation of __consumer_offsets (a Metadata request naming it) makes it the way the
    // coordinator does: its partition count and compact policy, never a default topic.
    context.topicCreator.registerInternalTopic(OFFSETS_TOPIC, () => offsetsGroupLog.topic());
    // KIP-848 consumer groups assign the cluster's topics, read live at each heartbeat.
    const topicImages = clusterTopicImages(context);
    // Cluster mode: the coordinator of a group is the leader of its __consumer_offsets partition.
    const groups = new GroupCoordinator({
      config: groupCoordinatorConfig(this.config),
      groupLog: offsetsGroupLog,
      logger: groupsLogger,
      topics: topicImages,
      partitioned: this.cluster !== null,
    });
    groups.load();
    this.cluster?.onRolesChanged(() => this.syncGroupPartitions(groups));
    context.useGroupCoordinator(groups);
    this.groups = groups;
    this.startShareCoordinator(context, topics, topicImages, logger.child({ subsystem: 'share' }));
    this.startTransactionCoordinator(context, topics, groups);
    // TLS listener settings (and the certificate principal mapper) load only when a listener uses TLS.
    if (this.config.listeners.some((l) => usesTls(l.securityProtocol))) {
      const { TlsListenerConfig } = await import('./tls-listener.ts');
      const tlsLogger = logger.child({ subsystem: 'tls' });
      for (const l of this.config.listeners) {
        if (usesTls(l.securityProtocol)) this.tls.set(l.name, new TlsListenerConfig(this.config, l.name, tlsLogger));
      }
    }
    const ssl = this.tls.size > 0;
    const ktls = ktlsProbe();
    this.metrics.broker.ktlsProbed(ktls === 'available');
    const writer = (this.writer = new ConnectionWriter({
      mode: this.config.str('sluice.transfer.mode') as 'sendfile' | 'splice' | 'copy',
      ...(this.config.int('sluice.writer.threads') > 0 ? { threads: this.config.int('sluice.writer.threads') } : {}),
      sendBufferBytes: this.config.int('socket.send.buffer.bytes'),
      coldReadThreads: this.config.int('sluice.writer.cold.read.threads'),
      onEvents: (events) => this.onWriterEvents(events),
      ...(ssl ? { onTlsEvents: (events: TlsEvent[]) => this.onTlsEvents(events), ktls: this.config.bool('sluice.ssl.ktls') } : {}),
    }));
    const cluster = this.cluster;
    this.metrics.attach({
      topics,
      groups,
      transactions: this.transactions ?? undefined,
      share: this.share ?? undefined,
      writerStats: () => writer.stats(),
      logDirs: this.config.logDirs,
      quotas: context.quotas,
      replicationQuotas: context.replicationQuotas,
      ...(cluster === null ? {} : { cluster: () => cluster.stats() }),
    });
    this.scheduleRetention();
    if (this.config.bool('log.cleaner.enable')) {
      this.cleaner = new LogCleaner(topics, this.config, logger.child({ subsystem: 'cleaner' }));
      this.cleaner.start();
    }
    for (const listener of this.config.listeners) this.boundListeners.push(await this.listen(listener));
    context.useBoundListeners(this.boundListeners);
    if (this.cluster !== null) {
      // Registered (advertising the bound listeners) and the cluster's topics projected before
      // the first client is accepted.
      const directoryId = readMetaProperties(this.config.logDirs[0])?.directoryId ?? `${clusterId}:${this.config.logDirs[0]}`;
      try {
        await this.cluster.join(context.advertisedEndpoints(), directoryId, topics);
      } catch (err) {
        // Refused (another live broker has this node.id) or etcd lost: nothing stays bound.
        await this.stop();
        throw err;
      }
      context.useCluster(this.cluster);
    }
    this.state = 'running';
    logger.info(
      {
        listeners: this.boundListeners.map((l) => `${l.name}://${l.host}:${l.boundPort}`),
        logDirs: this.config.logDirs,
        clusterId,
        nodeId: this.config.nodeId,
        ...(this.cluster === null ? {} : { controller: this.cluster.view.controllerId, brokerEpoch: this.cluster.brokerEpoch }),
        metrics: this.metricsUrl,
        ktls,
        startupMs: Math.round(performance.now() - started),
        recovery: { partitions: loaded.partitionsRecovered, segments: loaded.segmentsRecovered, ms: loaded.loadMs },
        config: this.config.nonDefaults(),
      },
      'sluice broker started',
    );
    return this;
  }

  /**
   * Graceful stop: accept nothing more, read no new request, wait (at most
   * `sluice.shutdown.timeout.ms`) for in-flight requests to be answered and written, then close
   * connections, flush and close the logs and mark the log dirs cleanly shut down.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping' || this.state === 'new') return;
    this.state = 'stopping';
    const started = performance.now();
    for (const timer of this.timers) clearInterval(timer);
    // A clean in progress is aborted when its log closes below; wait for it after that.
    const cleanerStopped = this.cleaner?.stop();
    // server.close() stops accepting now; its callback waits for every connection, so it is
    // not awaited here.
    for (const server of this.servers) server.close();
    for (const waiting of this.waitingForSlot.splice(0)) waiting.socket.destroy();
    this.context?.shutdown.begin();
    // Leave the cluster first: the lease is revoked, so the controller moves leadership away now
    // rather than after the session timeout.
    await this.cluster?.stop();
    const connections = [...this.connections.values()];
    const inFlight = connections.reduce((n, c) => n + c.inFlightCount, 0);
    const timeoutMs = this.config.int('sluice.shutdown.timeout.ms');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const drained = Promise.all(connections.map((c) => c.drain())).then(() => false);
    const expired = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    const unanswered = connections.reduce((n, c) => n + c.inFlightCount, 0);
    // Lingering close: FIN after the last response, and a moment for peers to close their side.
    for (const connection of connections) connection.shutdownOutput();
    const lingerUntil = performance.now() + Math.min(LINGER_MS, timeoutMs);
    while (performance.now() < lingerUntil && connections.some((c) => !c.isClosed)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const connection of [...this.connections.values()]) connection.close();
    // Scrapes stop before the logs close (a closed log answers nothing).
    await this.metricsServer?.close();
    this.metrics.detach();
    // After close() the coordinator touches no log again (a load still completing prepared
    // transactions stops at its next step; the next start completes them).
    this.transactions?.close();
    for (const pool of this.interBroker) pool.close();
    this.groups?.close();
    this.share?.close();
    this.writer?.close();
    for (const tls of this.tls.values()) tls.close();
    this.tls.clear();
    this.topics?.close();
    await cleanerStopped;
    for (const lock of this.logDirLocks) lock.release();
    this.logDirLocks = [];
    this.state = 'stopped';
    this.logger.info(
      { connections: connections.length, inFlight, unanswered, drainTimedOut: expired, stopMs: Math.round(performance.now() - started) },
      'sluice broker stopped',
    );
  }

  /**
   * The cluster id to format (or check) meta.properties with: `cluster.id` on a single node; in
   * cluster mode the one stored in etcd, which the first broker writes (proposing the id of its
   * existing data dir, else `cluster.id`, else a new one). Fails naming the endpoints when etcd
   * cannot be reached.
   */
  private async agreeClusterId(): Promise<string | null> {
    const configured = this.config.get('cluster.id') as string | null;
    // A single node never loads cluster mode's code (the etcd client, the replica fetcher and the
    // Kafka client it fetches with): it is imported only when etcd endpoints are configured.
    if (this.config.list('sluice.metadata.etcd.endpoints').length === 0) return configured;
    const { ClusterNode } = await import('./cluster/cluster-node.ts');
    const settings = ClusterNode.settingsOf(this.config);
    if (settings === null) return configured;
    this.cluster = new ClusterNode(settings, this.logger.child({ subsystem: 'cluster' }), undefined, (operation, seconds) =>
      this.metrics.cluster.etcdRequest(operation, seconds),
    );
    const local = readMetaProperties(this.config.logDirs[0])?.clusterId ?? null;
    try {
      const agreed = await this.cluster.clusterId(local ?? configured ?? newClusterId(), local);
      if (configured !== null && configured !== agreed) throw new ConfigError('cluster.id', `configured ${configured} but the cluster in etcd is ${agreed}`);
      return agreed;
    } catch (err) {
      await this.abandonStart(this.cluster);
      throw err;
    }
  }

  /**
   * Cluster mode: the ACL, SCRAM credential and client quota stores in etcd (the first broker of
   * a cluster carries its local files in), read before any client connects; null on a single
   * node, whose stores are its files. A failure (etcd lost, a corrupt local file) fails the start.
   */
  private async openSharedStores(): Promise<SharedStores | null> {
    const cluster = this.cluster;
    if (cluster === null) return null;
    try {
      const { openClusterStores } = await import('./cluster/stores/cluster-stores.ts');
      return await openClusterStores(cluster.store, cluster.keys, this.config.nodeId, this.config.logDirs[0], this.logger.child({ subsystem: 'cluster' }));
    } catch (err) {
      await this.abandonStart(cluster);
      throw err;
    }
  }

  /**
   * Cluster mode: the group coordinator loads the `__consumer_offsets` partitions this broker
   * leads (and whose log is open here) and unloads the others, after every change of roles.
   */
  private syncGroupPartitions(groups: GroupCoordinator): void {
    const cluster = this.cluster;
    if (cluster === null || this.topics === null) return;
    const local = this.topics.get(OFFSETS_TOPIC);
    const count = Math.max(cluster.view.topics.get(OFFSETS_TOPIC)?.record.replicas.length ?? 0, local?.partitions.length ?? 0);
    for (let p = 0; p < count; p++) {
      if (local?.partitions[p] !== undefined && cluster.isLeader(OFFSETS_TOPIC, p)) groups.loadPartition(p);
      else groups.unloadPartition(p);
    }
  }

  /**
   * Cluster mode: how the offsets topic is replicated (null on a single node). A commit waits,
   * as Kafka's coordinator writes with acks=-1, until the partition's high watermark passes it
   * (delayed like an acks=-1 Produce), at most `offsets.commit.timeout.ms`.
   */
  private offsetsReplication(context: BrokerContext): OffsetsReplication | null {
    return this.internalReplication(context, OFFSETS_TOPIC, this.config.int('offsets.commit.timeout.ms'));
  }

  /** How an internal topic's coordinator writes are replicated: waits at most `timeoutMs` for the ISR. */
  private internalReplication(context: BrokerContext, topic: string, timeoutMs: number): (OffsetsReplication & TransactionStateReplication) | null {
    const cluster = this.cluster;
    if (cluster === null) return null;
    return {
      clusterPartitionCount: () => cluster.view.topics.get(topic)?.record.replicas.length,
      leads: (partition) => cluster.isLeader(partition.topic.name, partition.index),
      isrSize: (partition) => cluster.replication.isr(partition).length,
      onLeaderAppend: (partition) => cluster.replication.onLeaderAppend(partition),
      replicated: (partition, offset) =>
        new Promise((resolve) => {
          const done = () => partition.highWatermark >= offset || partition.offline;
          context.delayedProduces.tryCompleteElseWatch(
            {
              tryComplete: done,
              onComplete: () => {
                if (partition.offline) resolve(ErrorCode.KAFKA_STORAGE_ERROR);
                else resolve(done() ? ErrorCode.NONE : ErrorCode.REQUEST_TIMED_OUT);
              },
            },
            [partition],
            timeoutMs,
          );
        }),
    };
  }

  /**
   * The transaction coordinator over `__transaction_state`, its markers appended to the local
   * partitions. Its load runs in the background once the groups are loaded (a marker for
   * `__consumer_offsets` resolves pending offsets there): replay, then every transaction found
   * prepared gets its markers; until then its requests answer COORDINATOR_LOAD_IN_PROGRESS,
   * as Kafka's do while a transaction state partition loads.
   */
  /** Share groups (KIP-932): share-partition state is replayed from __share_group_state first. */
  private startShareCoordinator(context: BrokerContext, topics: TopicRegistry, topicImages: TopicImages, shareLogger: Logger): void {
    const stateLog = new ShareStateTopicLog({ config: this.config, topics, topicCreator: context.topicCreator }, shareLogger);
    context.topicCreator.registerInternalTopic(SHARE_STATE_TOPIC, () => stateLog.topic());
    const share = new ShareCoordinator({
      config: shareGroupConfig(this.config),
      stateLog,
      topicRegistry: topics,
      topics: topicImages,
      logger: shareLogger,
      onRecordsReleased: (partition) => context.delayedFetches.checkSoon(partition),
    });
    share.load();
    context.useShareCoordinator(share);
    this.share = share;
  }

  private startTransactionCoordinator(context: BrokerContext, topics: TopicRegistry, groups: GroupCoordinator): void {
    const txnLogger = this.logger.child({ subsystem: 'transactions' });
    // Cluster mode: the coordinator of a transactional id is the leader of its __transaction_state
    // partition; its writes wait for that partition's ISR, markers go to each partition's leader.
    const timeoutMs = this.config.int('request.timeout.ms');
    const replication = () => this.internalReplication(context, TRANSACTION_STATE_TOPIC, timeoutMs);
    const stateLog = new TransactionStateTopicLog({ config: this.config, topics, topicCreator: context.topicCreator, replication }, txnLogger);
    context.topicCreator.registerInternalTopic(TRANSACTION_STATE_TOPIC, () => stateLog.topic());
    const cluster = this.cluster;
    // Inter-broker pools (closed at stop): markers to partition leaders, verifications (KIP-890) to coordinators.
    const pool = (purpose: string) =>
      new InterBrokerConnections({ nodeId: this.config.nodeId, purpose, requestTimeoutMs: timeoutMs, security: cluster?.settings.fetcher.security });
    this.interBroker = cluster === null ? [] : [pool('txn-markers'), pool('txn-verify')];
    const remote = cluster === null ? null : new RemoteMarkerSender(this.interBroker[0]!, txnLogger);
    const markers = new PartitionMarkerWriter({
      config: this.config,
      topics,
      logger: txnLogger,
      offsetSink: () => groups,
      replication: () => {
        const internal = replication();
        if (cluster === null || remote === null || internal === null) return null;
        return {
          leads: (topic, index) => cluster.isLeader(topic, index),
          onLeaderAppend: internal.onLeaderAppend,
          replicated: internal.replicated,
          exists: (topic, index) => cluster.view.partition(topic, index) !== undefined,
          leaderOf: (topic, index) => {
            const leader = cluster.currentLeader(topic, index).leaderId;
            return leader < 0 ? null : cluster.endpointOf(leader, this.config.interBrokerListener.name);
          },
          remote,
        };
      },
    });
    // Tests only: markers that never land, so a kill -9 finds transactions prepared.
    const held = this.config.bool('sluice.test.fault.transaction.markers.hold');
    const coordinator = new TransactionCoordinator({
      log: stateLog,
      markers: held ? { write: () => new Promise<never>(() => undefined) } : markers,
      clock: systemClock,
      producerIds: context.producerIds,
      offsetsPartitionFor: (groupId) => ({ topic: OFFSETS_TOPIC, partition: groups.partitionFor(groupId) }),
      config: transactionCoordinatorConfig(this.config),
      logger: txnLogger,
      probe: this.metrics.transactions,
      partitioned: cluster !== null,
    });
    context.useTransactionCoordinator(coordinator, markers, cluster === null ? null : new RemoteTxnVerifier(this.interBroker[1]!, txnLogger));
    this.transactions = coordinator;
    cluster?.onRolesChanged(() => this.syncTransactionPartitions(coordinator));
    const started = performance.now();
    void coordinator.load().then(
      () =>
        txnLogger.info({ transactionalIds: coordinator.transactionalIdCount, ms: Math.round(performance.now() - started) }, 'transaction coordinator loaded'),
      (err: unknown) => txnLogger.error({ err }, 'loading the transaction coordinator failed; transactional requests answer COORDINATOR_LOAD_IN_PROGRESS'),
    );
  }

  /**
   * Cluster mode: the transaction coordinator loads the `__transaction_state` partitions this
   * broker leads (in their leader epoch: the coordinator epoch) and unloads the others.
   */
  private syncTransactionPartitions(coordinator: TransactionCoordinator): void {
    const cluster = this.cluster;
    if (cluster === null || this.topics === null) return;
    const local = this.topics.get(TRANSACTION_STATE_TOPIC);
    const count = Math.max(cluster.view.topics.get(TRANSACTION_STATE_TOPIC)?.record.replicas.length ?? 0, local?.partitions.length ?? 0);
    for (let p = 0; p < count; p++) {
      if (local?.partitions[p] === undefined || !cluster.isLeader(TRANSACTION_STATE_TOPIC, p)) {
        coordinator.unloadPartition(p);
        continue;
      }
      coordinator
        .loadPartition(p, cluster.currentLeader(TRANSACTION_STATE_TOPIC, p).leaderEpoch)
        .catch((err: unknown) =>
          this.logger.error({ err, partition: p }, 'loading a transaction state partition failed; its ids answer COORDINATOR_LOAD_IN_PROGRESS'),
        );
    }
  }

  /**
   * Takes every log dir's lock before anything in it is read or opened: a second broker on the
   * same dir would recover (truncate) files the first one has mapped. On failure nothing stays
   * held or bound and the start fails with one line naming the dir.
   */
  /** A start that failed: close the cluster store if open, release what the start took. */
  private async abandonStart(cluster: ClusterNode | null): Promise<void> {
    cluster?.store.close();
    this.cluster = null;
    for (const lock of this.logDirLocks) lock.release();
    this.logDirLocks = [];
    await this.metricsServer?.close();
    this.state = 'stopped';
  }

  private async lockLogDirs(): Promise<void> {
    for (const dir of this.config.logDirs) {
      try {
        this.logDirLocks.push(lockLogDir(dir));
      } catch (err) {
        await this.abandonStart(null);
        const code = (err as { code?: unknown }).code;
        throw new Error(code === 'LOG_DIR_LOCKED' ? `another broker is using log dir ${dir}` : `cannot lock log dir ${dir}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
  }

  /**
   * Every listener's SASL settings, checked before anything opens: a listener that cannot be
   * served fails the start with the key to fix. SCRAM logins read the credential store the
   * broker context opens later (nothing connects before it exists).
   */
  private async resolveListenerAuth(): Promise<void> {
    const scram = { scramCredential: (user: string, mechanism: string) => this.context?.scramCredentials.scramCredential(user, mechanism) };
    for (const listener of this.config.listeners) {
      if (!isSaslProtocol(listener.securityProtocol)) {
        // As listenerAuth() answers for it, without loading the SASL mechanisms.
        this.listenerAuths.set(listener.name, { listener: listener.name, protocol: listener.securityProtocol, sasl: null });
        continue;
      }
      const { listenerAuth } = await import('./security/listener-auth.ts');
      try {
        this.listenerAuths.set(listener.name, listenerAuth(this.config, listener, scram));
      } catch (err) {
        this.state = 'stopped';
        throw new ConfigError('listeners', (err as Error).message);
      }
    }
  }

  private async startMetricsServer(): Promise<void> {
    const setting = this.config.str('sluice.metrics.listener');
    let listener: MetricsListener | null;
    try {
      listener = parseMetricsListener(setting);
    } catch (err) {
      throw new ConfigError('sluice.metrics.listener', (err as Error).message);
    }
    if (listener === null) return;
    const server = new MetricsServer(listener, this.metrics, this.logger.child({ subsystem: 'metrics' }));
    try {
      await server.listen();
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError(
        'sluice.metrics.listener',
        `cannot listen on ${setting} (${reason}); set another address or port, or an empty value to disable the endpoint`,
      );
    }
    this.metricsServer = server;
    this.logger.child({ subsystem: 'metrics' }).info({ url: server.url }, 'metrics endpoint listening');
  }

  private listen(listener: Listener): Promise<BoundListener> {
    return new Promise((resolve, reject) => {
      // SSL: Node never reads the socket (the native writer runs TLS on it), so it is accepted paused.
      const pauseOnConnect = usesTls(listener.securityProtocol);
      const server = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect }, (socket) => this.accept(socket, listener));
      server.once('error', reject);
      server.listen({ host: listener.host === '' ? undefined : listener.host, port: listener.port, backlog: ACCEPT_BACKLOG }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.logger.error({ err }, 'listener error'));
        this.servers.push(server);
        const address = server.address();
        const boundPort = typeof address === 'object' && address !== null ? address.port : listener.port;
        resolve({ ...listener, boundPort });
      });
    });
  }

  private accept(socket: Socket, listener: Listener): void {
    if (this.state !== 'running') {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '';
    if ((this.connectionsPerIp.get(address) ?? 0) >= this.config.int('max.connections.per.ip')) {
      this.logger.warn({ remote: address, limit: this.config.int('max.connections.per.ip') }, 'max.connections.per.ip reached; closing the new connection');
      socket.destroy();
      return;
    }
    // connection_creation_rate (KIP-612): over its address's rate, held unread, then closed.
    const throttleMs = this.context?.quotas.ipConnections.recordConnection(address) ?? 0;
    if (throttleMs > 0) {
      this.logger.debug({ remote: address, throttleMs }, 'connection_creation_rate exceeded; closing the new connection after the throttle time');
      socket.pause();
      socket.on('error', () => undefined);
      setTimeout(() => socket.destroy(), throttleMs).unref();
      return;
    }
    if (this.connections.size >= this.config.int('max.connections')) {
      if (this.waitingForSlot.length >= ACCEPT_BACKLOG) {
        socket.destroy();
        return;
      }
      // Not read until admitted; a peer that gives up meanwhile just leaves the queue.
      socket.pause();
      const onClose = () => {
        const at = this.waitingForSlot.indexOf(waiting);
        if (at >= 0) this.waitingForSlot.splice(at, 1);
      };
      const onError = () => undefined; // the close that follows removes it
      const waiting: WaitingSocket = {
        socket,
        listener,
        detach: () => {
          socket.off('close', onClose);
          socket.off('error', onError);
        },
      };
      socket.once('close', onClose);
      socket.on('error', onError);
      this.waitingForSlot.push(waiting);
      return;
    }
    this.open(socket, listener);
  }

  /** A slot freed: admit the connections waiting for one, oldest first. */
  private admitWaiting(): void {
    while (this.state === 'running' && this.waitingForSlot.length > 0 && this.connections.size < this.config.int('max.connections')) {
      const { socket, listener, detach } = this.waitingForSlot.shift()!;
      detach();
      if (socket.destroyed) continue;
      this.accept(socket, listener);
      if (!usesTls(listener.securityProtocol)) socket.resume();
    }
  }

  private open(socket: Socket, listener: Listener): void {
    if (this.writer === null || this.context === null || this.handlers === null) throw new Error('BUG: accepting before start');
    const options: ConnectionOptions = {
      maxRequestBytes: this.config.int('socket.request.max.bytes'),
      maxInFlight: this.config.int('queued.max.requests'),
      maxPendingBytes: this.config.int('sluice.connection.pending.max.bytes'),
      idleMs: this.config.int('connections.max.idle.ms'),
      ...(usesTls(listener.securityProtocol) ? { tls: this.connectionTls(listener) } : {}),
    };
    const info = {
      id: this.nextConnectionId++,
      remoteAddress: socket.remoteAddress ?? '',
      remotePort: socket.remotePort ?? 0,
      listenerName: listener.name,
    };
    const address = info.remoteAddress;
    const auth = this.listenerAuths.get(listener.name);
    if (auth === undefined) throw new Error(`BUG: no authentication settings for listener ${listener.name}`);
    const networkLogger = this.logger.child({ subsystem: 'network' });
    const session = new ConnectionSession(address, auth, this.metrics.security, networkLogger.child({ connection: info.id, listener: listener.name }));
    const connection = new Connection(socket, info, session, this.writer, this.context, this.handlers, options, networkLogger, (c) => {
      this.connections.delete(c.id);
      // KIP-932: share sessions end with their connection, releasing what they hold.
      this.share?.connectionClosed(c.id);
      const left = (this.connectionsPerIp.get(address) ?? 1) - 1;
      if (left > 0) this.connectionsPerIp.set(address, left);
      else this.connectionsPerIp.delete(address);
      this.admitWaiting();
    });
    this.connections.set(connection.id, connection);
    this.connectionsPerIp.set(address, (this.connectionsPerIp.get(address) ?? 0) + 1);
  }

  /** Open client connections (for tests and metrics). */
  get connectionCount(): number {
    return this.connections.size;
  }

  private connectionTls(listener: Listener): NonNullable<ConnectionOptions['tls']> {
    const tls = this.tls.get(listener.name);
    if (tls === undefined) throw new Error(`BUG: TLS listener ${listener.name} without a TLS config`);
    const probe = this.metrics.broker;
    return {
      config: tls.current,
      handshakeTimeoutMs: tls.handshakeTimeoutMs,
      principalOf: (subject) => tls.principalOf(subject),
      established: (kernel) => probe.tlsHandshakeCompleted(listener.name, kernel),
      failed: (reason) => probe.tlsConnectionFailed(listener.name, reason),
    };
  }

  private onTlsEvents(events: readonly TlsEvent[]): void {
    for (const event of events) this.connections.get(event.connId)?.onTlsEvent(event);
  }

  private onWriterEvents(events: readonly WriterEvent[]): void {
    for (const event of events) {
      const connection = this.connections.get(event.connId);
      if (connection === undefined) continue;
      if (event.kind === 'failed') connection.onWriterError(event.code);
      else connection.onWriterDone(event.token);
    }
  }

  private scheduleRetention(): void {
    const interval = this.config.int('log.retention.check.interval.ms');
    const retention = setInterval(() => this.enforceRetention(), Math.min(interval, 2_147_483_647));
    retention.unref();
    this.timers.push(retention);
    // Kafka's log.flush.offset.checkpoint.interval.ms (60 s): a crash recovers only past these.
    const checkpoints = setInterval(() => {
      try {
        this.topics?.writeCheckpoints();
      } catch (err) {
        this.logger.error({ err }, 'writing checkpoints failed');
      }
    }, 60_000);
    checkpoints.unref();
    this.timers.push(checkpoints);
    // Time-based flush, as Kafka's log flusher: it runs every log.flush.scheduler.interval.ms
    // (default never) and fsyncs each partition whose last flush is older than its flush.ms.
    const flushCheckMs = this.config.int('log.flush.scheduler.interval.ms');
    if (flushCheckMs < Number.MAX_SAFE_INTEGER) {
      const flusher = setInterval(() => this.flushDirtyLogs(), Math.min(flushCheckMs, 2_147_483_647));
      flusher.unref();
      this.timers.push(flusher);
    }
  }

  /** Flushes partitions with unflushed data whose last flush is older than their flush.ms. */
  flushDirtyLogs(now = Date.now()): void {
    if (this.topics === null) return;
    for (const topic of this.topics.topics) {
      const flushMs = topic.config.num('flush.ms');
      if (flushMs >= Number.MAX_SAFE_INTEGER) continue;
      for (const partition of topic.partitions) {
        if (partition.offline || partition.log.recoveryPoint >= partition.log.logEndOffset) continue;
        if (now - partition.lastFlushAt < flushMs) continue;
        partition.flushDurable().catch((err: unknown) => this.logger.error({ topic: topic.name, partition: partition.index, err }, 'scheduled flush failed'));
      }
    }
  }

  /**
   * Deletes segments past retention.ms / retention.bytes in every partition whose
   * cleanup.policy includes `delete` (a compact-only topic keeps every segment; compaction
   * bounds it instead).
   */
  enforceRetention(now = Date.now()): void {
    if (this.topics === null) return;
    for (const topic of this.topics.topics) {
      if (!(topic.config.get('cleanup.policy') as string[]).includes('delete')) continue;
      for (const partition of topic.partitions) {
        try {
          if (partition.log.enforceRetention(now) > 0) partition.notifyChanged();
        } catch (err) {
          this.logger.error({ topic: topic.name, partition: partition.index, err }, 'retention failed');
        }
      }
    }
  }
}

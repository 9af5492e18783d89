// What handlers share: configuration, identity, the topic registry and the helpers that several
// handlers need (topic auto-creation, topic config validation). One per broker.

import { ErrorCode } from '@sluice/protocol';
import type { BrokerConfig, ConfigValue, Listener } from './config.ts';
import { ConfigError } from './config.ts';
import { newPartitionsProblem } from './fd-budget.ts';
import type { GroupCoordinator } from './groups/coordinator.ts';
import type { Logger } from './logger.ts';
import { ProducerIdManager } from './producer-ids.ts';
import { BrokerMetrics } from './metrics/broker-metrics.ts';
import { storageFailure } from './storage-errors.ts';
import { parseTopicOverrides, validateTopicOverrides } from './topic-config.ts';
import { INTERNAL_TOPICS, type Partition, type Topic, type TopicRegistry, topicNameProblem } from './topics.ts';

export interface TopicCreation {
  /** The new topic; undefined when refused, and for validateOnly. */
  readonly topic?: Topic;
  /** Kafka error code when the topic was not (or, validateOnly, would not be) created. */
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** On success (validateOnly too): what the topic has, or would have. */
  readonly created?: { readonly partitions: number; readonly replicationFactor: number; readonly overrides: ReadonlyMap<string, ConfigValue> };
}

// Error codes used here, from Kafka's table in @sluice/protocol.
const { LEADER_NOT_AVAILABLE, INVALID_TOPIC_EXCEPTION, TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG } = ErrorCode;

export class BrokerContext {
  readonly config: BrokerConfig;
  readonly clusterId: string;
  readonly nodeId: number;
  readonly topics: TopicRegistry;
  readonly logger: Logger;
  /** Producer ids for InitProducerId, reserved in blocks in the first log dir. */
  readonly producerIds: ProducerIdManager;
  /** The metrics probes (metrics/): handlers report what happened through them. */
  readonly metrics: BrokerMetrics;
  /** Where clients should connect (the advertised listener of the connection's listener). */
  private advertised: readonly Listener[];
  private apiVersionTable: ReadonlyArray<{ apiKey: number; minVersion: number; maxVersion: number }> = [];
  private groupCoordinator: GroupCoordinator | null = null;
  private readonly internalTopicCreators = new Map<string, () => Topic>();
  private readonly shutdownListeners = new Set<() => void>();
  private shuttingDown = false;

  constructor(config: BrokerConfig, clusterId: string, topics: TopicRegistry, logger: Logger, metrics?: BrokerMetrics) {
    this.config = config;
    this.metrics = metrics ?? new BrokerMetrics({ appendMode: config.str('sluice.log.append.mode') as 'mmap' | 'pwrite' });
    this.clusterId = clusterId;
    this.nodeId = config.nodeId;
    this.topics = topics;
    this.logger = logger;
    this.advertised = config.advertisedListeners;
    this.producerIds = new ProducerIdManager(config.logDirs[0]);
  }

  /**
   * Once bound: without explicit `advertised.listeners`, advertise what was actually bound (a
   * listener on port 0 gets its real port).
   */
  useBoundListeners(bound: ReadonlyArray<Listener & { boundPort: number }>): void {
    if (!this.config.isDefault('advertised.listeners')) return;
    this.advertised = bound.map((l) => ({ ...l, port: l.boundPort }));
  }

  /** The group coordinator (groups and committed offsets), set once it has loaded. */
  get groups(): GroupCoordinator {
    if (this.groupCoordinator === null) throw new Error('BUG: the group coordinator is not loaded yet');
    return this.groupCoordinator;
  }

  useGroupCoordinator(coordinator: GroupCoordinator): void {
    this.groupCoordinator = coordinator;
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

  /**
   * Creates a topic after Kafka's validations. `partitions`/`replicationFactor` of -1 take the
   * broker defaults. With `validateOnly` nothing is created.
   */
  createTopic(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: ReadonlyArray<{ name: string; value: string | null }>,
    validateOnly: boolean,
  ): TopicCreation {
    const nameProblem = topicNameProblem(name);
    if (nameProblem !== null) return { errorCode: INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
    if (this.topics.get(name) !== undefined) {
      return { errorCode: TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
    }
    // Kafka checks the configs before the partition count and replication factor.
    const nullConfigs = configs.filter((c) => c.value === null).map((c) => c.name);
    if (nullConfigs.length > 0) return { errorCode: INVALID_CONFIG, errorMessage: `Null value not supported for topic configs: ${nullConfigs.join(',')}` };
    let overrides: Map<string, ConfigValue>;
    try {
      overrides = parseTopicOverrides(configs);
      validateTopicOverrides(overrides, this.config);
    } catch (err) {
      if (err instanceof ConfigError) return { errorCode: INVALID_CONFIG, errorMessage: err.message };
      throw err;
    }
    const count = partitions === -1 ? this.config.int('num.partitions') : partitions;
    if (count < 1) return { errorCode: INVALID_PARTITIONS, errorMessage: 'Number of partitions must be larger than 0.' };
    if (count > 100_000) return { errorCode: INVALID_PARTITIONS, errorMessage: 'Number of partitions must be at most 100000.' };
    const rf = replicationFactor === -1 ? this.config.int('default.replication.factor') : replicationFactor;
    if (rf !== 1) {
      return {
        errorCode: INVALID_REPLICATION_FACTOR,
        errorMessage: `Replication factor: ${rf} larger than available brokers: 1.`,
      };
    }
    const created = { partitions: count, replicationFactor: rf, overrides };
    const capacity = newPartitionsProblem(count);
    if (capacity !== null) return { errorCode: INVALID_PARTITIONS, errorMessage: capacity };
    if (validateOnly) return { errorCode: 0, errorMessage: null, created };
    let topic: Topic;
    try {
      topic = this.topics.create(name, count, overrides);
    } catch (err) {
      // Opening the logs failed (EMFILE, ENOSPC, EIO): nothing of the topic was kept.
      const failure = storageFailure(err);
      if (failure === null) throw err;
      this.logger.error({ topic: name, partitions: count, err }, 'creating a topic failed');
      return { errorCode: failure.errorCode, errorMessage: failure.message };
    }
    return { topic, errorCode: 0, errorMessage: null, created };
  }

  /**
   * Group commit for `sluice.flush.on.ack.enable`: resolves once every given partition's data
   * appended so far is fsync'd; rejects if any fsync failed. Concurrent callers share fsyncs
   * (see Partition.flushDurable).
   */
  async flushForAck(partitions: readonly Partition[]): Promise<void> {
    await Promise.all(partitions.map((p) => p.flushDurable()));
  }

  /**
   * flushForAck that waits for every partition and resolves with those whose fsync failed
   * (they are offline then), so a Produce answer can fail just those partitions.
   */
  async flushEachForAck(partitions: readonly Partition[]): Promise<Set<Partition>> {
    const outcomes = await Promise.allSettled(partitions.map((p) => p.flushDurable()));
    const failed = new Set<Partition>();
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') failed.add(partitions[i]);
    });
    return failed;
  }

  /** True once a graceful stop began: parked requests answer now instead of waiting. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Calls `listener` when a graceful stop begins (parked fetches answer at once then). */
  onShutdown(listener: () => void): () => void {
    this.shutdownListeners.add(listener);
    return () => this.shutdownListeners.delete(listener);
  }

  beginShutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const listener of [...this.shutdownListeners]) listener();
    this.shutdownListeners.clear();
  }

  /** How an internal topic is made when something asks for it by name. */
  registerInternalTopic(name: string, create: () => Topic): void {
    this.internalTopicCreators.set(name, create);
  }

  /**
   * Auto-creation on Metadata when `auto.create.topics.enable` allows it. Internal topics are
   * made by their owner (their own partition count and configs), as Kafka's
   * AutoTopicCreationManager does; an internal name nobody owns here is refused.
   */
  autoCreateTopic(name: string): TopicCreation {
    if (INTERNAL_TOPICS.has(name)) {
      const create = this.internalTopicCreators.get(name);
      if (create === undefined) return { errorCode: INVALID_TOPIC_EXCEPTION, errorMessage: `${name} is an internal topic Sluice does not serve` };
      try {
        return { topic: create(), errorCode: 0, errorMessage: null };
      } catch (err) {
        this.logger.warn({ topic: name, err }, 'creating an internal topic failed');
        return { errorCode: LEADER_NOT_AVAILABLE, errorMessage: `${name} is not available yet` };
      }
    }
    return this.createTopic(name, -1, -1, [], false);
  }
}

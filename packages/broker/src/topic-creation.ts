// Creating topics: Kafka's validations for CreateTopics (name, existence, configs, partition
// count, replication factor, the open-files budget), in Kafka's order, and auto-creation on
// Metadata — where internal topics are made by their owner (their own partition count and
// configs), as Kafka's AutoTopicCreationManager does. One per broker; handlers reach it through
// the BrokerContext, the group coordinator's offsets topic through its log.
//
// Concurrency: event loop only.

import { ErrorCode } from '@sluice/protocol';
import { type BrokerConfig, ConfigError, type ConfigValue } from './config.ts';
import { newPartitionsProblem } from './fd-budget.ts';
import type { Logger } from './logger.ts';
import { storageFailure } from './storage-errors.ts';
import { parseTopicOverrides, validateTopicOverrides } from './topic-config.ts';
import { INTERNAL_TOPICS, type Topic, type TopicRegistry, topicNameProblem } from './topics.ts';

export interface TopicCreation {
  /** The new topic; undefined when refused, and for validateOnly. */
  readonly topic?: Topic;
  /** Kafka error code when the topic was not (or, validateOnly, would not be) created. */
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** On success (validateOnly too): what the topic has, or would have. */
  readonly created?: { readonly partitions: number; readonly replicationFactor: number; readonly overrides: ReadonlyMap<string, ConfigValue> };
}

export class TopicCreator {
  private readonly config: BrokerConfig;
  private readonly topics: TopicRegistry;
  private readonly logger: Logger;
  private readonly internalTopicCreators = new Map<string, () => Topic>();
  /** How many brokers a replication factor may reach: 1 on a single node, the live brokers in cluster mode. */
  private availableBrokers: () => number = () => 1;

  constructor(config: BrokerConfig, topics: TopicRegistry, logger: Logger) {
    this.config = config;
    this.topics = topics;
    this.logger = logger;
  }

  /**
   * Creates a topic after Kafka's validations. `partitions`/`replicationFactor` of -1 take the
   * broker defaults. With `validateOnly` nothing is created.
   */
  create(
    name: string,
    partitions: number,
    replicationFactor: number,
    configs: ReadonlyArray<{ name: string; value: string | null }>,
    validateOnly: boolean,
  ): TopicCreation {
    const nameProblem = topicNameProblem(name);
    if (nameProblem !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
    if (this.topics.get(name) !== undefined) {
      return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.` };
    }
    // Kafka checks the configs before the partition count and replication factor.
    const nullConfigs = configs.filter((c) => c.value === null).map((c) => c.name);
    if (nullConfigs.length > 0)
      return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Null value not supported for topic configs: ${nullConfigs.join(',')}` };
    let overrides: Map<string, ConfigValue>;
    try {
      overrides = parseTopicOverrides(configs);
      validateTopicOverrides(overrides, this.config);
    } catch (err) {
      if (err instanceof ConfigError) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: err.message };
      throw err;
    }
    const count = partitions === -1 ? this.config.int('num.partitions') : partitions;
    if (count < 1) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Number of partitions must be larger than 0.' };
    if (count > 100_000) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: 'Number of partitions must be at most 100000.' };
    const rf = replicationFactor === -1 ? this.config.int('default.replication.factor') : replicationFactor;
    if (rf < 1) return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: 'Replication factor must be larger than 0.' };
    const brokers = this.availableBrokers();
    if (rf > brokers) {
      return {
        errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
        errorMessage: `Replication factor: ${rf} larger than available brokers: ${brokers}.`,
      };
    }
    const created = { partitions: count, replicationFactor: rf, overrides };
    const capacity = newPartitionsProblem(count);
    if (capacity !== null) return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: capacity };
    if (validateOnly) return { errorCode: ErrorCode.NONE, errorMessage: null, created };
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
    return { topic, errorCode: ErrorCode.NONE, errorMessage: null, created };
  }

  /** Cluster mode: replication factors are checked against the live brokers this counts. */
  useBrokerCount(count: () => number): void {
    this.availableBrokers = count;
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
  autoCreate(name: string): TopicCreation {
    if (INTERNAL_TOPICS.has(name)) {
      const create = this.internalTopicCreators.get(name);
      if (create === undefined) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: `${name} is an internal topic Sluice does not serve` };
      try {
        return { topic: create(), errorCode: ErrorCode.NONE, errorMessage: null };
      } catch (err) {
        this.logger.warn({ topic: name, err }, 'creating an internal topic failed');
        return { errorCode: ErrorCode.LEADER_NOT_AVAILABLE, errorMessage: `${name} is not available yet` };
      }
    }
    return this.create(name, -1, -1, [], false);
  }
}

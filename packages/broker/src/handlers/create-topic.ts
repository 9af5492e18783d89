// One topic creation, as CreateTopics and Metadata's auto-creation share it. Single node: the
// TopicCreator validates and creates locally. Cluster mode: the same validations, then the topic
// is written to etcd (cluster-node.ts) and answered once this broker's view has it.
// `__consumer_offsets` and `__transaction_state` are cluster topics too, made the way their owners
// make them (createOffsetsTopic, createTransactionStateTopic); the other internal topics stay
// with their local owner.

import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { ConfigValue } from '../config.ts';
import type { ClusterNode } from '../cluster/cluster-node.ts';
import { OFFSETS_TOPIC_SEGMENT_BYTES } from '../groups/offsets-topic-log.ts';
import { OFFSETS_TOPIC } from '../groups/partitioning.ts';
import { parseTopicOverrides } from '../topic-config.ts';
import { INTERNAL_TOPICS } from '../topics.ts';
import { TRANSACTION_STATE_TOPIC } from '../transactions/transaction-state-log.ts';

export interface CreatedTopic {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  /** The new topic's id (null when refused, and for validateOnly). */
  readonly topicId: string | null;
  readonly created?: { readonly partitions: number; readonly replicationFactor: number; readonly overrides: ReadonlyMap<string, ConfigValue> };
}

export async function createTopicInCluster(
  broker: BrokerContext,
  name: string,
  partitions: number,
  replicationFactor: number,
  configs: ReadonlyArray<{ name: string; value: string | null }>,
  validateOnly: boolean,
  /** Cluster mode: explicit replicas per partition (checked by the caller), else placed. */
  assignment?: readonly (readonly number[])[],
): Promise<CreatedTopic> {
  const cluster = broker.cluster;
  if (cluster !== null && name === OFFSETS_TOPIC && !validateOnly) return createOffsetsTopic(broker, cluster);
  if (cluster !== null && name === TRANSACTION_STATE_TOPIC && !validateOnly) return createTransactionStateTopic(broker, cluster);
  if (cluster === null || INTERNAL_TOPICS.has(name)) {
    const local = broker.topicCreator.create(name, partitions, replicationFactor, configs, validateOnly);
    return { ...local, topicId: local.topic?.id ?? null };
  }
  if (cluster.view.topics.has(name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.`, topicId: null };
  const checked = broker.topicCreator.create(name, partitions, replicationFactor, configs, true);
  if (checked.errorCode !== ErrorCode.NONE || checked.created === undefined || validateOnly) return { ...checked, topicId: null };
  const made = await cluster.createTopic(name, checked.created.partitions, checked.created.replicationFactor, checked.created.overrides, assignment);
  if (made.errorCode !== ErrorCode.NONE) return { errorCode: made.errorCode, errorMessage: made.errorMessage, topicId: null };
  return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: made.topicId ?? null, created: checked.created };
}

/**
 * Cluster mode: `__consumer_offsets` in etcd, as Kafka creates it on the first FindCoordinator:
 * `offsets.topic.num.partitions` partitions, replication factor
 * `offsets.topic.replication.factor`, compacted. Refused (the caller answers
 * COORDINATOR_NOT_AVAILABLE) until that many brokers are live, as Kafka's.
 */
export async function createOffsetsTopic(broker: BrokerContext, cluster: ClusterNode): Promise<CreatedTopic> {
  if (cluster.view.topics.has(OFFSETS_TOPIC))
    return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${OFFSETS_TOPIC}' already exists.`, topicId: null };
  const partitions = broker.config.int('offsets.topic.num.partitions');
  const replicationFactor = broker.config.int('offsets.topic.replication.factor');
  const overrides = parseTopicOverrides([
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'segment.bytes', value: String(OFFSETS_TOPIC_SEGMENT_BYTES) },
  ]);
  const made = await cluster.createTopic(OFFSETS_TOPIC, partitions, replicationFactor, overrides);
  if (made.errorCode !== ErrorCode.NONE) return { errorCode: made.errorCode, errorMessage: made.errorMessage, topicId: null };
  broker.logger.info({ partitions, replicationFactor }, `created ${OFFSETS_TOPIC} in the cluster`);
  return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: made.topicId ?? null, created: { partitions, replicationFactor, overrides } };
}

/**
 * Cluster mode: `__transaction_state` in etcd, as Kafka creates it on the first FindCoordinator
 * for a transactional id: `transaction.state.log.num.partitions` partitions, replication factor
 * `transaction.state.log.replication.factor`, `min.insync.replicas` =
 * `transaction.state.log.min.isr`, compacted. Refused (the caller answers
 * COORDINATOR_NOT_AVAILABLE) until that many brokers are live, as Kafka's.
 */
export async function createTransactionStateTopic(broker: BrokerContext, cluster: ClusterNode): Promise<CreatedTopic> {
  if (cluster.view.topics.has(TRANSACTION_STATE_TOPIC))
    return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${TRANSACTION_STATE_TOPIC}' already exists.`, topicId: null };
  const partitions = broker.config.int('transaction.state.log.num.partitions');
  const replicationFactor = broker.config.int('transaction.state.log.replication.factor');
  const overrides = parseTopicOverrides([
    { name: 'cleanup.policy', value: 'compact' },
    { name: 'segment.bytes', value: String(broker.config.int('transaction.state.log.segment.bytes')) },
    { name: 'min.insync.replicas', value: String(broker.config.int('transaction.state.log.min.isr')) },
  ]);
  const made = await cluster.createTopic(TRANSACTION_STATE_TOPIC, partitions, replicationFactor, overrides);
  if (made.errorCode !== ErrorCode.NONE) return { errorCode: made.errorCode, errorMessage: made.errorMessage, topicId: null };
  broker.logger.info({ partitions, replicationFactor }, `created ${TRANSACTION_STATE_TOPIC} in the cluster`);
  return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: made.topicId ?? null, created: { partitions, replicationFactor, overrides } };
}

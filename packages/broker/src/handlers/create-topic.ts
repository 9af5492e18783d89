// One topic creation, as CreateTopics and Metadata's auto-creation share it. Single node: the
// TopicCreator validates and creates locally. Cluster mode: the same validations, then the topic
// is written to etcd (cluster-node.ts) and answered once this broker's view has it; internal
// topics stay with their local owner (the group coordinator is per broker until it moves to the
// partition leaders).

import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import type { ConfigValue } from '../config.ts';
import { INTERNAL_TOPICS } from '../topics.ts';

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
): Promise<CreatedTopic> {
  const cluster = broker.cluster;
  if (cluster === null || INTERNAL_TOPICS.has(name)) {
    const local = broker.topicCreator.create(name, partitions, replicationFactor, configs, validateOnly);
    return { ...local, topicId: local.topic?.id ?? null };
  }
  if (cluster.view.topics.has(name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `Topic '${name}' already exists.`, topicId: null };
  const checked = broker.topicCreator.create(name, partitions, replicationFactor, configs, true);
  if (checked.errorCode !== ErrorCode.NONE || checked.created === undefined || validateOnly) return { ...checked, topicId: null };
  const made = await cluster.createTopic(name, checked.created.partitions, checked.created.replicationFactor, checked.created.overrides);
  if (made.errorCode !== ErrorCode.NONE) return { errorCode: made.errorCode, errorMessage: made.errorMessage, topicId: null };
  return { errorCode: ErrorCode.NONE, errorMessage: null, topicId: made.topicId ?? null, created: checked.created };
}

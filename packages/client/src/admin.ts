// Topic and config administration: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
// IncrementalAlterConfigs and DescribeCluster, as kafka-topics.sh / kafka-configs.sh use them.
// Per-topic outcomes come back as values with their Kafka error code; the caller decides which
// ones are failures (e.g. TOPIC_ALREADY_EXISTS is fine with --if-not-exists).

import { ApiKey, type DeleteTopicsRequest, type Encodable, ZERO_UUID } from '@sluice/protocol';
import { checkError, UsageError } from './errors.ts';
import type { BrokerInfo, KafkaClient } from './kafka-client.ts';

/** DescribeConfigs / IncrementalAlterConfigs resource types (Kafka's ConfigResource.Type). */
export const ConfigResourceType = Object.freeze({ TOPIC: 2, BROKER: 4 } as const);

/** DescribeConfigs configSource values (Kafka's DescribeConfigsResponse.ConfigSource). */
export const CONFIG_SOURCE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  [-1]: 'UNKNOWN',
  1: 'DYNAMIC_TOPIC_CONFIG',
  2: 'DYNAMIC_BROKER_CONFIG',
  3: 'DYNAMIC_DEFAULT_BROKER_CONFIG',
  4: 'STATIC_BROKER_CONFIG',
  5: 'DEFAULT_CONFIG',
  6: 'DYNAMIC_BROKER_LOGGER_CONFIG',
  7: 'CLIENT_METRICS_CONFIG',
  8: 'GROUP_CONFIG',
});
export const CONFIG_SOURCE_DYNAMIC_TOPIC = 1;

export interface TopicResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface NewTopic {
  readonly name: string;
  /** -1: the broker's num.partitions (CreateTopics v4+). */
  readonly partitions: number;
  /** -1: the broker's default.replication.factor (CreateTopics v4+). */
  readonly replicationFactor: number;
  readonly configs: ReadonlyMap<string, string>;
}

export interface CreatedTopic extends TopicResult {
  readonly topicId: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
}

export async function createTopics(
  client: KafkaClient,
  topics: readonly NewTopic[],
  options: { timeoutMs: number; validateOnly?: boolean },
): Promise<CreatedTopic[]> {
  const conn = await client.controller();
  const version = conn.version(ApiKey.CreateTopics);
  if (version < 4 && topics.some((t) => t.partitions < 0 || t.replicationFactor < 0)) {
    throw new UsageError(`the broker at ${conn.address} needs explicit counts (CreateTopics v${version})`, 'pass --partitions and --replication-factor');
  }
  const body = await conn.request(ApiKey.CreateTopics, {
    topics: topics.map((t) => ({
      name: t.name,
      numPartitions: t.partitions,
      replicationFactor: t.replicationFactor,
      assignments: [],
      configs: [...t.configs].map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: options.timeoutMs,
    validateOnly: options.validateOnly ?? false,
  });
  return body.topics.map((t) => ({
    name: t.name,
    topicId: t.topicId ?? ZERO_UUID,
    errorCode: t.errorCode,
    errorMessage: t.errorMessage ?? null,
    // Reported from v5; before that they decode as their default, -1.
    numPartitions: t.numPartitions ?? -1,
    replicationFactor: t.replicationFactor ?? -1,
  }));
}

export async function deleteTopics(client: KafkaClient, names: readonly string[], options: { timeoutMs: number }): Promise<TopicResult[]> {
  const conn = await client.controller();
  const version = conn.version(ApiKey.DeleteTopics);
  // v6 names topics by {name, topicId}; earlier versions by a plain name list.
  const request: Encodable<DeleteTopicsRequest> =
    version >= 6
      ? { topics: names.map((name) => ({ name, topicId: ZERO_UUID })), timeoutMs: options.timeoutMs }
      : { topicNames: [...names], timeoutMs: options.timeoutMs };
  const body = await conn.request(ApiKey.DeleteTopics, request);
  // The name is null only in answers to a request by topic id (v6+); this one names its topics.
  return body.responses.map((r) => ({ name: r.name ?? '', errorCode: r.errorCode, errorMessage: r.errorMessage ?? null }));
}

/** Raises each topic's partition count to `count` (the new total, as Kafka's API takes it). */
export async function createPartitions(
  client: KafkaClient,
  topics: ReadonlyArray<{ name: string; count: number }>,
  options: { timeoutMs: number; validateOnly?: boolean },
): Promise<TopicResult[]> {
  const conn = await client.controller();
  const body = await conn.request(ApiKey.CreatePartitions, {
    topics: topics.map((t) => ({ name: t.name, count: t.count, assignments: null })),
    timeoutMs: options.timeoutMs,
    validateOnly: options.validateOnly ?? false,
  });
  return body.results.map((r) => ({ name: r.name, errorCode: r.errorCode, errorMessage: r.errorMessage ?? null }));
}

export interface ConfigEntry {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly source: number;
  readonly isSensitive: boolean;
}

export interface ResourceConfigs {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly configs: readonly ConfigEntry[];
}

/** DescribeConfigs for topics (or brokers, by id as the name); `keys` null asks for every key. */
export async function describeConfigs(
  client: KafkaClient,
  resources: ReadonlyArray<{ type: number; name: string; keys?: readonly string[] | null }>,
): Promise<ResourceConfigs[]> {
  if (resources.length === 0) return [];
  const conn = client.bootstrap;
  const body = await conn.request(ApiKey.DescribeConfigs, {
    resources: resources.map((r) => ({ resourceType: r.type, resourceName: r.name, configurationKeys: r.keys ?? null })),
    includeSynonyms: false,
    includeDocumentation: false,
  });
  return body.results.map((r) => ({
    resourceType: r.resourceType,
    resourceName: r.resourceName,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage ?? null,
    configs: r.configs.map((c) => ({ name: c.name, value: c.value, readOnly: c.readOnly, source: c.configSource, isSensitive: c.isSensitive })),
  }));
}

export type ConfigChange = { readonly op: 'set'; readonly name: string; readonly value: string } | { readonly op: 'delete'; readonly name: string };

// IncrementalAlterConfigs operation codes (Kafka's AlterConfigOp.OpType).
const CONFIG_OP = { set: 0, delete: 1 } as const;

/** Applies SET/DELETE changes to one topic's dynamic config; throws KafkaApiError on refusal. */
export async function alterTopicConfigs(
  client: KafkaClient,
  topic: string,
  changes: readonly ConfigChange[],
  options: { validateOnly?: boolean } = {},
): Promise<void> {
  const conn = client.bootstrap;
  const body = await conn.request(ApiKey.IncrementalAlterConfigs, {
    resources: [
      {
        resourceType: ConfigResourceType.TOPIC,
        resourceName: topic,
        configs: changes.map((c) => ({ name: c.name, configOperation: CONFIG_OP[c.op], value: c.op === 'set' ? c.value : null })),
      },
    ],
    validateOnly: options.validateOnly ?? false,
  });
  for (const r of body.responses) checkError('alter config of', `topic ${JSON.stringify(r.resourceName)}`, r.errorCode, r.errorMessage);
}

export interface ClusterDescription {
  readonly clusterId: string | null;
  readonly controllerId: number;
  readonly brokers: readonly BrokerInfo[];
  /** Which API answered: DescribeCluster when the broker serves it, otherwise Metadata. */
  readonly source: 'DescribeCluster' | 'Metadata';
}

export async function describeCluster(client: KafkaClient): Promise<ClusterDescription> {
  const conn = client.bootstrap;
  if (conn.supports(ApiKey.DescribeCluster)) {
    const body = await conn.request(ApiKey.DescribeCluster, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    checkError('describe', 'cluster', body.errorCode, body.errorMessage);
    return {
      clusterId: body.clusterId,
      controllerId: body.controllerId,
      brokers: body.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack ?? null })).sort((a, b) => a.nodeId - b.nodeId),
      source: 'DescribeCluster',
    };
  }
  const md = await client.metadata([]);
  return {
    clusterId: md.clusterId,
    controllerId: md.controllerId,
    brokers: [...md.brokers.values()].sort((a, b) => a.nodeId - b.nodeId),
    source: 'Metadata',
  };
}

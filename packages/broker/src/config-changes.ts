// What AlterConfigs (33) and IncrementalAlterConfigs (44) share, in Kafka's order: the request's
// preprocessing (ConfigAdminManager.preprocess: duplicate resources, duplicate keys, null values,
// resource names and types), then a topic's new override set, validated whole
// (ControllerConfigurationValidator + LogConfig.validate) before the topic's existence is
// checked, then applied unless validateOnly. The two APIs differ only in how the new set is made
// from the current one: replaced wholesale, or changed key by key. Cluster mode: the topic and its
// current configs are the cluster's (etcd), and the new set is written there (CAS); every replica's
// projection applies it to its logs. BROKER resources change the dynamic broker configs
// (dynamic-broker-configs.ts) of this broker ("<node.id>") or the cluster-wide defaults ("").

import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from './broker-context.ts';
import { ConfigError, type ConfigValue, RESOURCE_BROKER, RESOURCE_GROUP, RESOURCE_TOPIC } from './config.ts';
import { type DynamicValues, notDynamicProblem, parseDynamicValue } from './dynamic-broker-configs.ts';
import { TopicConfig, validateTopicOverrides } from './topic-config.ts';
import { topicNameProblem } from './topics.ts';

export interface ConfigResourceChange {
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: ReadonlyArray<{ readonly name: string; readonly value: string | null }>;
}

/** A resource's answer; errorMessage is null on success. */
export interface ResourceOutcome {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const OK: ResourceOutcome = { errorCode: ErrorCode.NONE, errorMessage: null };
const refused = (errorCode: number, errorMessage: string): ResourceOutcome => ({ errorCode, errorMessage });

/** Resource types Kafka's config APIs know (ConfigResource.Type) that Sluice has nothing to configure for. */
const UNSUPPORTED_TYPES: ReadonlyMap<number, string> = new Map([
  [8, 'BROKER_LOGGER'],
  [16, 'CLIENT_METRICS'],
]);

/**
 * Kafka's ConfigAdminManager.preprocess, per resource in request order: the answer for a resource
 * refused here, or null for one to carry on with. `nullRefused` says which null values the API
 * refuses (AlterConfigs: all; IncrementalAlterConfigs: all but DELETE's).
 */
export function preprocessConfigResources<R extends ConfigResourceChange>(
  resources: readonly R[],
  nodeId: number,
  nullRefused: (config: R['configs'][number]) => boolean,
  /** The authorization check, after Kafka's request checks and before any processing; null = allowed. */
  denied: (resource: R) => ResourceOutcome | null = () => null,
  /** Whether the API changes GROUP (32) resources (IncrementalAlterConfigs: share-group configs). */
  groupsServed = false,
): Array<ResourceOutcome | null> {
  const seen = new Map<string, number>();
  resources.forEach((r, i) => {
    const key = `${r.resourceType}\u0000${r.resourceName}`;
    seen.set(key, seen.has(key) ? -1 : i);
  });
  return resources.map((r) => {
    // Every copy of a repeated resource is refused, not just the later ones.
    if (seen.get(`${r.resourceType}\u0000${r.resourceName}`) === -1) return refused(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
    const names = r.configs.map((c) => c.name);
    if (new Set(names).size !== names.length) return refused(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
    const nulls = r.configs.filter((c) => c.value === null && nullRefused(c)).map((c) => c.name);
    if (nulls.length > 0) return refused(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
    switch (r.resourceType) {
      case RESOURCE_TOPIC:
        return denied(r);
      case RESOURCE_BROKER: {
        // '' is the cluster-wide default, otherwise it must name this node.
        if (r.resourceName !== '') {
          if (!/^[+-]?\d+$/.test(r.resourceName)) return refused(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${r.resourceName}`);
          if (Number(r.resourceName) !== nodeId)
            return refused(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId}, but received ${r.resourceName}`);
        }
        return denied(r);
      }
      case RESOURCE_GROUP:
        if (groupsServed) return denied(r);
        return refused(ErrorCode.INVALID_REQUEST, 'Group configs are changed with IncrementalAlterConfigs');
      default: {
        const known = UNSUPPORTED_TYPES.get(r.resourceType);
        return refused(ErrorCode.INVALID_REQUEST, known === undefined ? `Unknown resource type ${r.resourceType}` : `Sluice has no ${known} configs`);
      }
    }
  });
}

/**
 * Changes a topic's override set to what `next` makes of the current configuration (broker
 * defaults only, for a topic that does not exist), as Kafka's controller does: the name is
 * checked, then the new set is validated whole, then the topic must exist; unless validateOnly,
 * the set is stored and pushed to the partitions' logs. `next` throws ConfigError for a value it
 * cannot accept.
 */
export function changeTopicConfigs(
  broker: BrokerContext,
  name: string,
  next: (current: TopicConfig) => Map<string, ConfigValue>,
  validateOnly: boolean,
): ResourceOutcome | Promise<ResourceOutcome> {
  if (name === '') return refused(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
  const nameProblem = topicNameProblem(name);
  if (nameProblem !== null) return refused(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
  const cluster = broker.cluster;
  const inCluster = cluster?.view.topics.get(name)?.record;
  const topic = broker.topics.get(name);
  const current =
    cluster !== null
      ? new TopicConfig(broker.config, new Map(Object.entries(inCluster?.configs ?? {})))
      : (topic?.config ?? new TopicConfig(broker.config, new Map()));
  let overrides: Map<string, ConfigValue>;
  try {
    overrides = next(current);
    validateTopicOverrides(overrides, broker.config);
  } catch (err) {
    if (err instanceof ConfigError) return refused(ErrorCode.INVALID_CONFIG, err.message);
    throw err;
  }
  if (cluster !== null) {
    if (inCluster === undefined) return refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
    if (validateOnly) return OK;
    return cluster.alterTopicConfigs(name, overrides).then((o) => (o.errorCode === ErrorCode.NONE ? OK : refused(o.errorCode, o.errorMessage ?? '')));
  }
  if (topic === undefined) return refused(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${name}' does not exist.`);
  if (!validateOnly) broker.topics.alterConfigs(topic, overrides);
  return OK;
}

/**
 * Changes the dynamic broker configs of `resourceName` ("": the cluster-wide defaults, else this
 * node, checked by preprocessConfigResources) to what `next` makes of the current values. `set`
 * names the keys given a value: each must be dynamic (Kafka: INVALID_REQUEST for a config that
 * cannot be updated dynamically) and its value valid (INVALID_CONFIG). Deleting a key needs no
 * check: a key that cannot be set is never set (kafka-reassign-partitions deletes the log-dir
 * throttle along with the replication ones). Unless validateOnly the new set is stored (cluster
 * mode: etcd) and applies at once.
 */
export async function changeBrokerConfigs(
  broker: BrokerContext,
  resourceName: string,
  set: ReadonlyArray<{ readonly name: string; readonly value: string }>,
  next: (current: DynamicValues) => Map<string, string>,
  validateOnly: boolean,
): Promise<ResourceOutcome> {
  for (const { name } of set) {
    const problem = notDynamicProblem(name);
    if (problem !== null) return refused(ErrorCode.INVALID_REQUEST, problem);
  }
  try {
    for (const { name, value } of set) parseDynamicValue(name, value);
  } catch (err) {
    if (err instanceof ConfigError) return refused(ErrorCode.INVALID_CONFIG, err.message);
    throw err;
  }
  if (validateOnly) return OK;
  await broker.dynamicConfigs.store.alter(resourceName === '' ? null : broker.nodeId, (current) => next(current));
  return OK;
}

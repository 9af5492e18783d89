// DescribeConfigs (key 32).
// Behavior: as Kafka's ConfigHelper. TOPIC resources list every topic config with its effective
// value; its synonyms are the topic's override (DYNAMIC_TOPIC_CONFIG), then the broker synonyms
// set in the broker's config (STATIC_BROKER_CONFIG), then those with a default (DEFAULT_CONFIG),
// each group in Kafka's precedence order, minus whatever precedes the first broker synonym itself
// (Kafka's quirk: retention.ms shows no synonyms when only log.retention.hours is set); the source
// is the first synonym's, else DEFAULT_CONFIG. BROKER resources: this node id lists every broker
// config the same way, its dynamic values first (DYNAMIC_BROKER_CONFIG, then the cluster-wide
// DYNAMIC_DEFAULT_BROKER_CONFIG; dynamic-broker-configs.ts), read-only except the dynamic keys;
// '' (the cluster's dynamic defaults) lists the configs set as defaults, their synonyms without
// any broker's own dynamic value (Kafka's createBrokerConfigEntry, perBrokerConfig=false). A null or empty configurationKeys means
// every key. An invalid topic name is INVALID_TOPIC_EXCEPTION, an unknown one
// UNKNOWN_TOPIC_OR_PARTITION (cluster mode: one etcd has is described from there, replica here or
// not); a broker name that is not an integer, or not this node, is
// INVALID_REQUEST. GROUP resources (32): a share group's group-level configs (share.*), the
// group's own value (source GROUP_CONFIG) or the broker's group.share.* one (DEFAULT_CONFIG);
// DESCRIBE_CONFIGS on the group, else GROUP_AUTHORIZATION_FAILED.
// Version notes: served v1–4. v1 configSource/synonyms; v3 configType/documentation; v4 flexible.

import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import { BROKER_CONFIGS, brokerConfigSynonyms, type ConfigType, formatConfigValue, RESOURCE_BROKER, RESOURCE_GROUP, RESOURCE_TOPIC } from '../config.ts';
import { DYNAMIC_BROKER_CONFIGS } from '../dynamic-broker-configs.ts';
import { brokerSynonyms, CONFIG_SOURCE, type ConfigSynonym, describeTopicConfig, TOPIC_CONFIGS, TopicConfig } from '../topic-config.ts';
import { type Topic, topicNameProblem } from '../topics.ts';
import { AclOperation, authorize, CLUSTER_NAME, ResourceType } from './authorization.ts';
import { defineHandler } from './handler.ts';

const CONFIG_TYPE: Readonly<Record<ConfigType, number>> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 };
/** Kafka's DescribeConfigs source of a group's own config (GROUP_CONFIG). */
const GROUP_CONFIG_SOURCE = 8;

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: ConfigSynonym[];
  configType: number;
  documentation: string | null;
}

/** Kafka: a null or empty key list asks for every config. */
function wanted(keys: readonly string[] | null, name: string): boolean {
  return keys === null || keys.length === 0 || keys.includes(name);
}

export function describeTopicConfigs(
  broker: BrokerContext,
  topic: Pick<Topic, 'config'>,
  keys: string[] | null,
  withSynonyms = false,
  withDocs = false,
): DescribedConfig[] {
  return TOPIC_CONFIGS.filter((def) => wanted(keys, def.name)).map((def) => {
    const described = describeTopicConfig(def, topic.config, broker.config);
    return {
      name: def.name,
      value: described.value,
      readOnly: false,
      isDefault: described.source === CONFIG_SOURCE.DEFAULT,
      configSource: described.source,
      isSensitive: false,
      synonyms: withSynonyms ? described.synonyms : [],
      configType: CONFIG_TYPE[def.type],
      documentation: withDocs ? def.doc : null,
    };
  });
}

/**
 * This broker's configs ("<node id>"), or the cluster-wide dynamic defaults (perBroker false:
 * only the keys set there, their value the default's).
 */
function describeBrokerConfigs(broker: BrokerContext, keys: string[] | null, withSynonyms: boolean, withDocs: boolean, perBroker = true): DescribedConfig[] {
  const dynamic = broker.dynamicConfigs;
  const defaults = dynamic.defaults;
  const sources = { perBroker: perBroker ? dynamic.perBroker : new Map<string, string>(), defaults };
  const listed = perBroker ? BROKER_CONFIGS : BROKER_CONFIGS.filter((def) => defaults.has(def.name));
  return listed
    .filter((def) => wanted(keys, def.name))
    .map((def) => {
      const synonyms = brokerSynonyms(broker.config, def.name, brokerConfigSynonyms(def.name), sources);
      const source = synonyms[0]?.source ?? CONFIG_SOURCE.DEFAULT;
      const value = perBroker ? formatConfigValue(def.type, dynamic.get(def.name)) : (defaults.get(def.name) ?? null);
      return {
        name: def.name,
        // Kafka's PASSWORD keys are never sent back: null value, isSensitive.
        value: def.sensitive === true ? null : value,
        readOnly: !DYNAMIC_BROKER_CONFIGS.has(def.name),
        isDefault: source === CONFIG_SOURCE.DEFAULT,
        configSource: source,
        isSensitive: def.sensitive === true,
        synonyms: !withSynonyms ? [] : def.sensitive === true ? synonyms.map((s) => ({ ...s, value: null })) : synonyms,
        configType: CONFIG_TYPE[def.type],
        documentation: withDocs ? def.doc : null,
      };
    });
}

export const describeConfigsHandler = defineHandler({
  apiKey: 32,
  minVersion: 1,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker } = ctx;
    const results = request.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const failed = (errorCode: number, errorMessage: string) => ({ ...base, errorCode, errorMessage, configs: [] });
      const described = (configs: DescribedConfig[]) => ({ ...base, errorCode: 0, errorMessage: null, configs });
      // Kafka: DESCRIBE_CONFIGS on the topic, or on the cluster for broker resources, first.
      if (r.resourceType === RESOURCE_TOPIC && !authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.TOPIC, r.resourceName)) {
        return failed(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.');
      }
      if (r.resourceType === RESOURCE_BROKER && !authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.CLUSTER, CLUSTER_NAME)) {
        return failed(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
      }
      if (r.resourceType === RESOURCE_TOPIC) {
        const nameProblem = topicNameProblem(r.resourceName);
        if (nameProblem !== null) return failed(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
        // Cluster mode: a topic with no replica here is described from the cluster's record.
        const inCluster = broker.cluster?.view.topics.get(r.resourceName)?.record;
        const topic =
          broker.topics.get(r.resourceName) ??
          (inCluster === undefined ? undefined : { config: new TopicConfig(broker.config, new Map(Object.entries(inCluster.configs))) });
        if (topic === undefined) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${r.resourceName}' does not exist.`);
        return described(describeTopicConfigs(broker, topic, r.configurationKeys, request.includeSynonyms, request.includeDocumentation ?? false));
      }
      if (r.resourceType === RESOURCE_BROKER) {
        const withDocs = request.includeDocumentation ?? false;
        if (r.resourceName === '') return described(describeBrokerConfigs(broker, r.configurationKeys, request.includeSynonyms, withDocs, false));
        if (!/^[+-]?\d+$/.test(r.resourceName)) return failed(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${r.resourceName}`);
        if (Number(r.resourceName) !== broker.nodeId) {
          return failed(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${r.resourceName}`);
        }
        return described(describeBrokerConfigs(broker, r.configurationKeys, request.includeSynonyms, withDocs));
      }
      if (r.resourceType === RESOURCE_GROUP) {
        if (!authorize(ctx, AclOperation.DESCRIBE_CONFIGS, ResourceType.GROUP, r.resourceName))
          return failed(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
        if (r.resourceName === '') return failed(ErrorCode.INVALID_REQUEST, 'Group id must not be empty');
        const withDocs = request.includeDocumentation ?? false;
        return described(
          broker.share
            .describeGroupConfigs(r.resourceName)
            .filter((c) => wanted(r.configurationKeys, c.name))
            .map((c) => ({
              name: c.name,
              value: c.value,
              readOnly: false,
              isDefault: c.isDefault,
              configSource: c.isDefault ? CONFIG_SOURCE.DEFAULT : GROUP_CONFIG_SOURCE,
              isSensitive: false,
              synonyms: request.includeSynonyms && !c.isDefault ? [{ name: c.name, value: c.value, source: GROUP_CONFIG_SOURCE }] : [],
              configType: CONFIG_TYPE[c.type],
              documentation: withDocs ? c.doc : null,
            })),
        );
      }
      return failed(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`);
    });
    return { throttleTimeMs: 0, results };
  },
});

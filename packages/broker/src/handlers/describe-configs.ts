// DescribeConfigs (key 32).
// Behavior: TOPIC resources list every topic config with its effective value, its source
// (DYNAMIC_TOPIC_CONFIG for overrides, STATIC_BROKER_CONFIG when the broker key was set,
// DEFAULT_CONFIG otherwise) and, when asked, its synonyms (the override, then the broker key);
// BROKER resources (name = this node id, or '' for cluster defaults) list every broker config.
// configurationKeys narrows the list. Unknown topic: UNKNOWN_TOPIC_OR_PARTITION.
// Version notes: served v1–4. v1 configSource/synonyms; v3 configType/documentation; v4 flexible.

import { ErrorCode } from '@sluice/protocol';
import type { BrokerContext } from '../broker-context.ts';
import { BROKER_CONFIGS, type ConfigType } from '../config.ts';
import { brokerDefaultFor, formatConfigValue, TOPIC_CONFIGS } from '../topic-config.ts';
import type { Topic } from '../topics.ts';
import type { ApiHandler } from './handler.ts';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

const SOURCE_DYNAMIC_TOPIC = 1;
const SOURCE_STATIC_BROKER = 4;
const SOURCE_DEFAULT = 5;

const CONFIG_TYPE: Readonly<Record<ConfigType, number>> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 };

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: Array<{ name: string; value: string | null; source: number }>;
  configType: number;
  documentation: string | null;
}

export function describeTopicConfigs(broker: BrokerContext, topic: Topic, keys: string[] | null, withSynonyms = false, withDocs = false): DescribedConfig[] {
  return TOPIC_CONFIGS.filter((def) => keys === null || keys.includes(def.name)).map((def) => {
    const fallback = brokerDefaultFor(def, broker.config);
    const override = topic.config.overrides.has(def.name);
    const value = override ? topic.config.overrides.get(def.name)! : fallback.value;
    const source = override ? SOURCE_DYNAMIC_TOPIC : fallback.fromBroker ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT;
    const synonyms: DescribedConfig['synonyms'] = [];
    if (withSynonyms) {
      if (override) synonyms.push({ name: def.name, value: formatConfigValue(value), source: SOURCE_DYNAMIC_TOPIC });
      if (def.brokerKey !== null) {
        synonyms.push({ name: def.brokerKey, value: formatConfigValue(fallback.value), source: fallback.fromBroker ? SOURCE_STATIC_BROKER : SOURCE_DEFAULT });
      }
    }
    return {
      name: def.name,
      value: formatConfigValue(value),
      readOnly: false,
      isDefault: source === SOURCE_DEFAULT,
      configSource: source,
      isSensitive: false,
      synonyms,
      configType: CONFIG_TYPE[def.type],
      documentation: withDocs ? def.doc : null,
    };
  });
}

function describeBrokerConfigs(broker: BrokerContext, keys: string[] | null, withSynonyms: boolean, withDocs: boolean): DescribedConfig[] {
  return BROKER_CONFIGS.filter((def) => keys === null || keys.includes(def.name)).map((def) => {
    const source = broker.config.isDefault(def.name) ? SOURCE_DEFAULT : SOURCE_STATIC_BROKER;
    const value = formatConfigValue(broker.config.get(def.name));
    return {
      name: def.name,
      value,
      readOnly: true,
      isDefault: source === SOURCE_DEFAULT,
      configSource: source,
      isSensitive: false,
      synonyms: withSynonyms ? [{ name: def.name, value, source }] : [],
      configType: CONFIG_TYPE[def.type],
      documentation: withDocs ? def.doc : null,
    };
  });
}

export const describeConfigsHandler: ApiHandler = {
  apiKey: 32,
  minVersion: 1,
  maxVersion: 4,
  handle(ctx, request) {
    const { broker } = ctx;
    const results = request.resources.map((r: { resourceType: number; resourceName: string; configurationKeys: string[] | null }) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const failed = (errorCode: number, errorMessage: string) => ({ ...base, errorCode, errorMessage, configs: [] });
      if (r.resourceType === RESOURCE_TOPIC) {
        const topic = broker.topics.get(r.resourceName);
        if (topic === undefined) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${r.resourceName}' does not exist.`);
        return { ...base, errorCode: 0, errorMessage: null, configs: describeTopicConfigs(broker, topic, r.configurationKeys, request.includeSynonyms, request.includeDocumentation) };
      }
      if (r.resourceType === RESOURCE_BROKER) {
        if (r.resourceName !== '' && r.resourceName !== String(broker.nodeId)) {
          return failed(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${r.resourceName}`);
        }
        return { ...base, errorCode: 0, errorMessage: null, configs: describeBrokerConfigs(broker, r.configurationKeys, request.includeSynonyms, request.includeDocumentation) };
      }
      return failed(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`);
    });
    return { throttleTimeMs: 0, results };
  },
};

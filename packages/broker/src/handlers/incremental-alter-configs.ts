// IncrementalAlterConfigs (key 44).
// Behavior: TOPIC resources: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on list configs,
// validated against the topic config table; all operations of one resource apply together or
// not at all, persisted in the topic registry and pushed to the partitions' logs. validateOnly
// checks without applying. Broker configs are static here: BROKER resources get
// INVALID_REQUEST (Sluice has no dynamic broker configs yet).
// Version notes: served v0–1; v1+ flexible.

import { ErrorCode } from '@sluice/protocol';
import { ConfigError, type ConfigValue } from '../config.ts';
import { parseTopicOverride, topicConfigDef } from '../topic-config.ts';
import { RESOURCE_BROKER, RESOURCE_TOPIC } from './describe-configs.ts';
import type { ApiHandler } from './handler.ts';

const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

interface AlterableConfig {
  name: string;
  configOperation: number;
  value: string | null;
}

export const incrementalAlterConfigsHandler: ApiHandler = {
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  handle(ctx, request) {
    const { broker } = ctx;
    const responses = request.resources.map((r: { resourceType: number; resourceName: string; configs: AlterableConfig[] }) => {
      const result = (errorCode: number, errorMessage: string | null) => ({ errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName });
      if (r.resourceType === RESOURCE_BROKER) return result(ErrorCode.INVALID_REQUEST, 'Sluice broker configs are static; set them in server.properties or with --override.');
      if (r.resourceType !== RESOURCE_TOPIC) return result(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${r.resourceType}`);
      const topic = broker.topics.get(r.resourceName);
      if (topic === undefined) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${r.resourceName}' does not exist.`);
      const overrides = new Map<string, ConfigValue>(topic.config.overrides);
      try {
        for (const c of r.configs) {
          const def = topicConfigDef(c.name);
          if (def === undefined) throw new ConfigError(c.name, 'unknown topic config');
          switch (c.configOperation) {
            case OP_SET:
              overrides.set(c.name, parseTopicOverride(c.name, c.value));
              break;
            case OP_DELETE:
              overrides.delete(c.name);
              break;
            case OP_APPEND:
            case OP_SUBTRACT: {
              if (def.type !== 'list') throw new ConfigError(c.name, 'APPEND and SUBTRACT apply to list configs only');
              const current = (topic.config.get(c.name) as string[]).slice();
              const items = parseTopicOverride(c.name, c.value) as string[];
              const next = c.configOperation === OP_APPEND
                ? [...current, ...items.filter((i) => !current.includes(i))]
                : current.filter((i) => !items.includes(i));
              overrides.set(c.name, next);
              break;
            }
            default:
              throw new ConfigError(c.name, `unknown operation ${c.configOperation}`);
          }
        }
      } catch (err) {
        if (err instanceof ConfigError) return result(ErrorCode.INVALID_CONFIG, err.message);
        throw err;
      }
      if (!request.validateOnly) broker.topics.alterConfigs(topic, overrides);
      return result(0, null);
    });
    return { throttleTimeMs: 0, responses };
  },
};

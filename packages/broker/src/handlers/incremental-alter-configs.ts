// IncrementalAlterConfigs (key 44).
// Behavior: TOPIC resources: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3) on list configs,
// validated against the topic config table; all operations of one resource apply together or
// not at all, persisted in the topic registry and pushed to the partitions' logs. validateOnly
// checks without applying. Request checks, validation order and errors are shared with
// AlterConfigs (config-changes.ts): a null value is refused except for DELETE. BROKER resources
// ("<this node id>", or "" for the cluster-wide defaults): SET and DELETE of dynamic broker
// configs (dynamic-broker-configs.ts; the replication throttled rates), stored (cluster mode:
// etcd) and applied at once; SET of any other key is INVALID_REQUEST, a bad value INVALID_CONFIG,
// APPEND/SUBTRACT INVALID_CONFIG (no dynamic broker config is a list); DELETE of a key not set
// succeeds (kafka-reassign-partitions deletes every throttle key after each run). GROUP
// resources (32): a share group's configs, SET and DELETE (share/group-configs.ts), ALTER_CONFIGS
// on the group else GROUP_AUTHORIZATION_FAILED; INVALID_CONFIG for an unknown name or bad value.
// Version notes: served v0–1; v1+ flexible.

import { ConfigError, type ConfigValue, RESOURCE_BROKER, RESOURCE_GROUP } from '../config.ts';
import { changeBrokerConfigs, changeTopicConfigs, preprocessConfigResources, type ResourceOutcome } from '../config-changes.ts';
import { ErrorCode } from '@sluice/protocol';
import { parseTopicOverride, type TopicConfig, topicConfigDef } from '../topic-config.ts';
import type { IncrementalAlterConfigsRequestResourcesConfigs } from '@sluice/protocol';
import { alterConfigsDenied } from './authorization.ts';
import { defineHandler } from './handler.ts';

const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

/** The topic's overrides after the operations, in request order; throws ConfigError. */
function applyOperations(current: TopicConfig, configs: readonly IncrementalAlterConfigsRequestResourcesConfigs[]): Map<string, ConfigValue> {
  const overrides = new Map<string, ConfigValue>(current.overrides);
  for (const c of configs) {
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
        const now = (overrides.has(c.name) ? overrides.get(c.name) : current.get(c.name)) as string[];
        const items = parseTopicOverride(c.name, c.value) as string[];
        const next = c.configOperation === OP_APPEND ? [...now, ...items.filter((i) => !now.includes(i))] : now.filter((i) => !items.includes(i));
        overrides.set(c.name, parseTopicOverride(c.name, next.join(',')));
        break;
      }
      default:
        throw new ConfigError(c.name, `unknown operation ${c.configOperation}`);
    }
  }
  return overrides;
}

/** A BROKER resource's operations: SET and DELETE only (config-changes.ts checks the keys and values). */
function changeBroker(
  broker: Parameters<typeof changeBrokerConfigs>[0],
  resourceName: string,
  configs: readonly IncrementalAlterConfigsRequestResourcesConfigs[],
  validateOnly: boolean,
): Promise<ResourceOutcome> | ResourceOutcome {
  const listOp = configs.find((c) => c.configOperation !== OP_SET && c.configOperation !== OP_DELETE);
  if (listOp !== undefined)
    return {
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: `invalid config ${listOp.name}: operation ${listOp.configOperation} applies to list configs only`,
    };
  const set = configs.filter((c) => c.configOperation === OP_SET).map((c) => ({ name: c.name, value: c.value ?? '' }));
  return changeBrokerConfigs(
    broker,
    resourceName,
    set,
    (current) => {
      const next = new Map(current);
      for (const c of configs) {
        if (c.configOperation === OP_SET) next.set(c.name, c.value ?? '');
        else next.delete(c.name);
      }
      return next;
    },
    validateOnly,
  );
}

export const incrementalAlterConfigsHandler = defineHandler({
  apiKey: 44,
  minVersion: 0,
  maxVersion: 1,
  async handle(ctx, request) {
    const { broker } = ctx;
    const resources = request.resources;
    const early = preprocessConfigResources(
      resources,
      broker.nodeId,
      (c) => c.configOperation !== OP_DELETE,
      (r) => alterConfigsDenied(ctx, r),
      true,
    );
    const responses = await Promise.all(
      resources.map(async (r, i) => {
        const outcome =
          early[i] ??
          (r.resourceType === RESOURCE_BROKER
            ? changeBroker(broker, r.resourceName, r.configs, request.validateOnly)
            : r.resourceType === RESOURCE_GROUP
              ? broker.share.alterGroupConfigs(
                  r.resourceName,
                  r.configs.map((c) => ({ name: c.name, operation: c.configOperation, value: c.value })),
                  request.validateOnly,
                )
              : changeTopicConfigs(broker, r.resourceName, (current) => applyOperations(current, r.configs), request.validateOnly));
        return { ...(await outcome), resourceType: r.resourceType, resourceName: r.resourceName };
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
});

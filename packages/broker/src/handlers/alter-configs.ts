// AlterConfigs (key 33), the legacy non-incremental API that kafkajs 2.x and kafka-python speak.
// Behavior: TOPIC resources: the request's configs become the topic's whole override set (a key
// left out goes back to its broker default), validated together as IncrementalAlterConfigs
// validates (config-changes.ts) and applied all or nothing, persisted and pushed to the
// partitions' logs; validateOnly checks without applying. As Kafka's ConfigAdminManager, a
// resource named twice, a key named twice or any null value is INVALID_REQUEST. BROKER resources
// ("<this node id>", or "" for the cluster-wide defaults): the request's configs become the
// scope's whole set of dynamic broker configs, each key dynamic (else INVALID_REQUEST) with a
// valid value (else INVALID_CONFIG), as in IncrementalAlterConfigs (config-changes.ts).
// Version notes: served v0–2; v1 only changes throttling order; v2+ flexible.

import { RESOURCE_BROKER } from '../config.ts';
import { changeBrokerConfigs, changeTopicConfigs, preprocessConfigResources } from '../config-changes.ts';
import { parseTopicOverrides } from '../topic-config.ts';
import { alterConfigsDenied } from './authorization.ts';
import { defineHandler } from './handler.ts';

export const alterConfigsHandler = defineHandler({
  apiKey: 33,
  minVersion: 0,
  maxVersion: 2,
  async handle(ctx, request) {
    const { broker } = ctx;
    const resources = request.resources;
    const early = preprocessConfigResources(
      resources,
      broker.nodeId,
      () => true,
      (r) => alterConfigsDenied(ctx, r),
    );
    const responses = await Promise.all(
      resources.map(async (r, i) => {
        // Replace-all: the current overrides play no part in the new set.
        const values = r.configs.map((c) => ({ name: c.name, value: c.value ?? '' }));
        const outcome =
          early[i] ??
          (r.resourceType === RESOURCE_BROKER
            ? changeBrokerConfigs(broker, r.resourceName, values, () => new Map(values.map((c) => [c.name, c.value])), request.validateOnly)
            : changeTopicConfigs(broker, r.resourceName, () => parseTopicOverrides(r.configs), request.validateOnly));
        return { ...(await outcome), resourceType: r.resourceType, resourceName: r.resourceName };
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
});

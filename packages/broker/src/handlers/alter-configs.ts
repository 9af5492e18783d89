// AlterConfigs (key 33), the legacy non-incremental API that kafkajs 2.x and kafka-python speak.
// Behavior: TOPIC resources: the request's configs become the topic's whole override set (a key
// left out goes back to its broker default), validated together as IncrementalAlterConfigs
// validates (config-changes.ts) and applied all or nothing, persisted and pushed to the
// partitions' logs; validateOnly checks without applying. As Kafka's ConfigAdminManager, a
// resource named twice, a key named twice or any null value is INVALID_REQUEST. BROKER resources
// get INVALID_REQUEST, as in IncrementalAlterConfigs (Sluice has no dynamic broker configs).
// Version notes: served v0–2; v1 only changes throttling order; v2+ flexible.

import { changeTopicConfigs, preprocessConfigResources } from '../config-changes.ts';
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
      () => false,
      (r) => alterConfigsDenied(ctx, r),
    );
    const responses = await Promise.all(
      resources.map(async (r, i) => {
        // Replace-all: the current overrides play no part in the new set.
        const outcome = early[i] ?? changeTopicConfigs(broker, r.resourceName, () => parseTopicOverrides(r.configs), request.validateOnly);
        return { ...(await outcome), resourceType: r.resourceType, resourceName: r.resourceName };
      }),
    );
    return { throttleTimeMs: 0, responses };
  },
});

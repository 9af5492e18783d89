// The client quota windows (Kafka's names and defaults): how rates are measured, and so how much a
// fresh client may burst (rate.ts); the replication throttles (replication-quota.ts) and their
// window. Part of the broker's config table (config-table.ts). The two throttled rates are also
// dynamic broker configs (dynamic-broker-configs.ts).

import type { ConfigDef } from '../config.ts';
import { atLeast } from '../config-validators.ts';

/** config-table.ts's LONG_MAX (Kafka's Long.MAX_VALUE: unlimited); not imported, that table imports this one. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

export const QUOTA_CONFIGS: readonly ConfigDef[] = [
  { name: 'quota.window.num', type: 'int', default: 11, doc: 'Samples kept to measure client byte and request-time rates (quotas).', validator: atLeast(1) },
  { name: 'quota.window.size.seconds', type: 'int', default: 1, doc: 'Length of each client quota sample.', validator: atLeast(1) },
  { name: 'controller.quota.window.num', type: 'int', default: 11, doc: 'Samples of the controller mutation quota (its burst).', validator: atLeast(1) },
  {
    name: 'controller.quota.window.size.seconds',
    type: 'int',
    default: 1,
    doc: 'Length of each controller mutation quota sample.',
    validator: atLeast(1),
  },
  {
    name: 'leader.replication.throttled.rate',
    type: 'long',
    default: UNLIMITED,
    doc: "Bytes/s a leader sends to followers' fetches of throttled replicas (a topic's leader.replication.throttled.replicas). Dynamic.",
    validator: atLeast(0),
  },
  {
    name: 'follower.replication.throttled.rate',
    type: 'long',
    default: UNLIMITED,
    doc: "Bytes/s a follower fetches for throttled replicas (a topic's follower.replication.throttled.replicas). Dynamic.",
    validator: atLeast(0),
  },
  { name: 'replication.quota.window.num', type: 'int', default: 11, doc: 'Samples kept to measure the replication throttles.', validator: atLeast(1) },
  { name: 'replication.quota.window.size.seconds', type: 'int', default: 1, doc: 'Length of each replication throttle sample.', validator: atLeast(1) },
];

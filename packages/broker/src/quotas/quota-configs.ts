// The client quota windows (Kafka's names and defaults): how rates are measured, and so how much a
// fresh client may burst (rate.ts). Part of the broker's config table (config-table.ts).

import type { ConfigDef } from '../config.ts';
import { atLeast } from '../config-validators.ts';

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
];

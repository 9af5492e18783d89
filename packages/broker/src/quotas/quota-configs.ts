// The client quota windows (Kafka's names and defaults): how rates are measured, and so how much a
// fresh client may burst (rate.ts). Part of the broker's config table (config-table.ts).

import type { ConfigDef, ConfigValue } from '../config.ts';

const atLeastOne = (v: ConfigValue) => (typeof v === 'number' && v < 1 ? 'must be >= 1' : null);

export const QUOTA_CONFIGS: readonly ConfigDef[] = [
  { name: 'quota.window.num', type: 'int', default: 11, doc: 'Samples kept to measure client byte and request-time rates (quotas).', validator: atLeastOne },
  { name: 'quota.window.size.seconds', type: 'int', default: 1, doc: 'Length of each client quota sample.', validator: atLeastOne },
  { name: 'controller.quota.window.num', type: 'int', default: 11, doc: 'Samples of the controller mutation quota (its burst).', validator: atLeastOne },
  {
    name: 'controller.quota.window.size.seconds',
    type: 'int',
    default: 1,
    doc: 'Length of each controller mutation quota sample.',
    validator: atLeastOne,
  },
];

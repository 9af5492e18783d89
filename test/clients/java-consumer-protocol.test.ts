// KIP-848 end to end with the Java client (kafka-clients 4.x, group.protocol=consumer): three
// members, one killed, one added, the broker restarted mid-run; each record processed once and
// the offsets committed. The scenario is consumer-protocol-scenario.ts (shared with librdkafka's).

import { consumerProtocolScenario } from './consumer-protocol-scenario.ts';
import { ensureJavaClient } from './support.ts';

consumerProtocolScenario({
  title: 'Java kafka-clients with group.protocol=consumer (KIP-848)',
  ensure: ensureJavaClient,
  topic: 'kip848-orders',
  group: 'kip848-group',
  producedValue: (i, round) => `value-none-${i}-r${round}`,
});

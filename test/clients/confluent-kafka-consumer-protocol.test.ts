// KIP-848 end to end with librdkafka (confluent-kafka-python, librdkafka >= 2.12 in its wheel:
// version in python/requirements.txt) and group.protocol=consumer: three members, one killed, one
// added, the broker restarted mid-run; each record processed once and the offsets committed.
// The scenario is consumer-protocol-scenario.ts (shared with the Java client's).

import { consumerProtocolScenario } from './consumer-protocol-scenario.ts';
import { ensureConfluentPythonClient } from './support.ts';

consumerProtocolScenario({
  title: 'confluent-kafka (librdkafka) with group.protocol=consumer (KIP-848)',
  ensure: ensureConfluentPythonClient,
  topic: 'kip848-librdkafka-orders',
  group: 'kip848-librdkafka-group',
  producedValue: (i, round) => `value-${i}-r${round}`,
});

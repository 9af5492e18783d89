// Builds every non-JavaScript client the real-client tests use (see support.ts), and fetches
// Apache Kafka's jars for the Kafka-tools test; quick when they are already there. CI runs it
// once before the suites: `pnpm exec node test/clients/install.ts`.

import { ensureConnect } from '../support/kafka-connect.ts';
import { kafkaToolsLibs } from '../support/kafka-tools.ts';
import { ensureConfluentPythonClient, ensureGoClient, ensureJavaClient, ensurePythonClient } from './support.ts';

for (const ensure of [ensureJavaClient, ensureGoClient, ensurePythonClient, ensureConfluentPythonClient]) {
  const started = Date.now();
  const client = ensure();
  process.stdout.write(`${client.name} client ready (${Date.now() - started} ms)\n`);
}
// Apache Kafka's jars, for test/kafka-tools.test.ts (Kafka's command-line tools against Sluice).
{
  const started = Date.now();
  const libs = kafkaToolsLibs((line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`Apache Kafka tools ready in ${libs} (${Date.now() - started} ms)\n`);
}
// The line-file connectors the Kafka Connect test runs, compiled against those jars.
{
  const started = Date.now();
  ensureConnect();
  process.stdout.write(`Kafka Connect test connectors ready (${Date.now() - started} ms)\n`);
}

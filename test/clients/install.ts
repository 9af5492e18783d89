// Builds every non-JavaScript client the real-client tests use (see support.ts); quick when they
// are already built. CI runs it once before the suites: `pnpm exec node test/clients/install.ts`.

import { ensureConfluentPythonClient, ensureGoClient, ensureJavaClient, ensurePythonClient } from './support.ts';

for (const ensure of [ensureJavaClient, ensureGoClient, ensurePythonClient, ensureConfluentPythonClient]) {
  const started = Date.now();
  const client = ensure();
  process.stdout.write(`${client.name} client ready (${Date.now() - started} ms)\n`);
}

// Protocol fuzzer, long mode: `pnpm exec node test/fuzz/run.ts --seconds 600 [--seed N]
// [--connections 4]`. Starts its own broker process, fuzzes it (fuzzer.ts), prints the report and
// the broker's error lines; exits 1 if the broker died, leaked, or failed the well-behaved client.

import { parseArgs } from 'node:util';
import { removeDir, startBroker } from '../support/broker-process.ts';
import { runFuzz } from './fuzzer.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    connections: { type: 'string', default: '4' },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const broker = await startBroker({
  overrides: { 'auto.create.topics.enable': false, 'sluice.log.level': 'error', 'sluice.metrics.listener': '' },
});
let failed = false;
try {
  process.stdout.write(`fuzzing broker pid ${broker.proc.pid} for ${seconds} s, seed ${seed}\n`);
  const report = await runFuzz(broker, { seconds, seed, connections: Number(values.connections), progress: (line) => process.stdout.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(report, null, 1)}\n`);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
  process.stdout.write(
    `${report.framesSent} frames on ${report.connectionsOpened} connections; broker ${report.brokerAlive ? 'alive' : 'DEAD'}; ` +
      `RSS ${mib(report.baselineRssBytes)} -> max ${mib(report.maxRssBytes)}; fds ${report.baselineFds} -> max ${report.maxFds}, final ${report.finalFds}; ` +
      `well-behaved client: ${report.goodRequests} requests, ${report.goodFailures.length} failures, max latency ${report.goodMaxLatencyMs} ms\n`,
  );
  const errors = broker
    .output()
    .split('\n')
    .filter((l) => l.includes('"level":"error"') || l.includes('"level":50'));
  for (const line of errors.slice(0, 50)) process.stdout.write(`broker: ${line}\n`);
  failed = !report.brokerAlive || report.goodFailures.length > 0 || report.finalFds > report.baselineFds + 4 + 8 * Math.max(0, report.finalPartitions - 3);
} finally {
  await broker.stop();
  removeDir(broker.dataDir);
}
process.exitCode = failed ? 1 : 0;

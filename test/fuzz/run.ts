// Protocol fuzzer, long mode: `pnpm exec node test/fuzz/run.ts --seconds 600 [--seed N]
// [--connections 4] [--entry plaintext|sasl|ssl|sasl_ssl] [--result]`. Starts its own broker
// process, fuzzes it (fuzzer.ts) through the chosen entry point, prints the report and the
// broker's error lines; exits 1 if the broker died, leaked, or failed the well-behaved client.
// Entry points: `plaintext` (every API), `sasl` (a SASL_PLAINTEXT listener: what arrives before a
// login), `ssl` (frames inside TLS sessions on an SSL listener), `sasl_ssl` (both). `--result`
// writes bench/results/<ISO time>-fuzz-<entry>.json with `seconds` and `crashes`.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { removeDir, startBroker } from '../support/broker-process.ts';
import { gitState, writeResultArtifact } from '../support/result-artifact.ts';
import { listenerPort, makeTestPki, type TestPki } from '../support/tls-certs.ts';
import { runFuzz } from './fuzzer.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    connections: { type: 'string', default: '4' },
    entry: { type: 'string', default: 'plaintext' },
    result: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);
const entry = values.entry;
const ENTRY_LISTENERS: Record<string, string | null> = { plaintext: null, sasl: 'SASL_PLAINTEXT', ssl: 'SSL', sasl_ssl: 'SASL_SSL' };
if (!(entry in ENTRY_LISTENERS)) throw new Error(`--entry must be one of ${Object.keys(ENTRY_LISTENERS).join(', ')}`);
const targetListener = ENTRY_LISTENERS[entry];

const pki: TestPki | null = entry === 'ssl' || entry === 'sasl_ssl' ? makeTestPki() : null;
const entryOverrides: Record<string, string | number | boolean> = {};
if (targetListener !== null) entryOverrides.listeners = `PLAINTEXT://127.0.0.1:0,${targetListener}://127.0.0.1:0`;
if (entry === 'sasl' || entry === 'sasl_ssl') {
  const listener = targetListener!.toLowerCase();
  Object.assign(entryOverrides, {
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    [`listener.name.${listener}.plain.sasl.jaas.config`]: 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
    'sasl.server.max.receive.size': 65536,
  });
}
if (pki !== null) Object.assign(entryOverrides, { 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': pki.serverPemFile });

const runStarted = new Date();
const gitAtStart = gitState();
const broker = await startBroker({
  overrides: { 'auto.create.topics.enable': false, 'sluice.log.level': 'error', 'sluice.metrics.listener': '', ...entryOverrides },
});
let failed = false;
try {
  const targetPort = targetListener === null ? undefined : listenerPort(broker.output(), targetListener);
  process.stdout.write(`fuzzing broker pid ${broker.proc.pid} through ${entry} for ${seconds} s, seed ${seed}\n`);
  const report = await runFuzz(broker, {
    seconds,
    seed,
    connections: Number(values.connections),
    targetPort,
    targetTlsCa: pki === null ? undefined : readFileSync(pki.caPem, 'utf8'),
    progress: (line) => process.stdout.write(`${line}\n`),
  });
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
  const leaked = report.finalFds > report.baselineFds + 4 + 8 * Math.max(0, report.finalPartitions - 3);
  failed = !report.brokerAlive || report.goodFailures.length > 0 || leaked;
  if (values.result) {
    const path = writeResultArtifact('fuzz', entry, runStarted, gitAtStart, {
      seed,
      seconds,
      crashes: report.brokerAlive ? 0 : 1,
      fdLeak: leaked,
      failures: report.goodFailures,
      brokerErrorLines: errors.length,
      report,
    });
    process.stdout.write(`written to ${path}\n`);
  }
} finally {
  await broker.stop();
  removeDir(broker.dataDir);
  pki?.remove();
}
process.exitCode = failed ? 1 : 0;

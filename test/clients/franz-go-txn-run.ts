// franz-go's own transaction check against Sluice: `pnpm exec node test/clients/franz-go-txn-run.ts`.
// Starts a broker (as the end-to-end tests start theirs) and runs franz-go's pkg/kgo
// TestTxnEtl, at the version test/clients/go/go.mod pins, with KGO_SEEDS pointing at it: a
// transactional producer commits 500k records in transactions of 10k, then chains of
// GroupTransactSession consume-transform-produce loops (classic range and cooperative-sticky,
// static membership, and the KIP-848 variants range/848, sticky/848, sticky/848/static, whose
// TxnOffsetCommit carries the member epoch) re-read and re-write them under rebalances; every
// record must come out exactly once. Prints the sub-tests' results; exits with go test's code.
// Not part of `pnpm test` (about 1.5 minutes on two cores, more under load).

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, startBroker } from '../support/broker-process.ts';

const GO_DIR = join(import.meta.dirname, 'go');
const broker = await startBroker({ overrides: { 'sluice.metrics.listener': '' } });
const started = Date.now();
const logFile = join(tmpdir(), 'sluice-franz-go-txn.log');
try {
  const code = await new Promise<number | null>((done) => {
    const go = spawn('go', ['test', '-v', '-count=1', '-run', 'TestTxnEtl$', '-timeout', '25m', 'github.com/twmb/franz-go/pkg/kgo'], {
      cwd: GO_DIR,
      env: { ...process.env, KGO_SEEDS: broker.bootstrap, KGO_TEST_RF: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    go.stdout.on('data', (d: Buffer) => (output += d.toString()));
    go.stderr.on('data', (d: Buffer) => (output += d.toString()));
    go.on('close', (c) => {
      writeFileSync(logFile, output);
      for (const line of output.split('\n')) if (/^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL|PASS)\b/.test(line)) process.stdout.write(`${line}\n`);
      done(c);
    });
  });
  process.stdout.write(
    `franz-go TestTxnEtl against ${broker.bootstrap}: exit ${code} in ${Math.round((Date.now() - started) / 1000)} s (full output: ${logFile})\n`,
  );
  process.exitCode = code ?? 1;
} finally {
  await broker.stop();
  removeDir(broker.dataDir);
}

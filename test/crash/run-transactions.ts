// Crash harness, transactional long mode: `pnpm exec node test/crash/run-transactions.ts
// --cycles 60 [--epoch 30] [--mode mmap|pwrite] [--seed N] [--quiet] [--no-record]`. Runs the
// transactional harness (txn-harness.ts) in epochs of `--epoch` SIGKILL cycles, each on a fresh
// data dir (every restart re-reads everything committed in its epoch), prints a line per cycle
// and a summary, writes the summary to test/crash/last-transactions-run.json (unless
// --no-record), and exits 1 if a committed record was lost or duplicated, an aborted or
// unfinished one was visible under read_committed, or a transaction was partly visible.

import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Recovery } from './harness.ts';
import { runTxnCrashCycles } from './txn-harness.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '60' },
    epoch: { type: 'string', default: '30' },
    mode: { type: 'string', default: 'mmap' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    quiet: { type: 'boolean', default: false },
    'no-record': { type: 'boolean', default: false },
  },
});
const cycles = Number(values.cycles);
const epoch = Number(values.epoch);
const seed = Number(values.seed);
if (!Number.isInteger(cycles) || cycles < 1) throw new Error('--cycles must be a positive integer');
if (!Number.isInteger(epoch) || epoch < 1) throw new Error('--epoch must be a positive integer');
if (values.mode !== 'mmap' && values.mode !== 'pwrite') throw new Error('--mode must be mmap or pwrite');
const appendMode = values.mode;

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const started = performance.now();
const loadBefore = loadavg()[0];
const totals = {
  cycles: 0,
  startupKills: 0,
  committed: 0,
  aborted: 0,
  inDoubt: 0,
  inDoubtCommitted: 0,
  unfinished: 0,
  committedRecords: 0,
  verifiedRecords: 0,
  missing: 0,
  duplicates: 0,
  outOfOrder: 0,
  abortedVisible: 0,
  partial: 0,
};
const problems: string[] = [];
const recoveries: Recovery[] = [];
for (let done = 0, e = 0; done < cycles; e++) {
  const n = Math.min(epoch, cycles - done);
  const report = await runTxnCrashCycles({
    cycles: n,
    seed: seed + e,
    appendMode,
    progress: values.quiet ? undefined : (line) => process.stdout.write(`[epoch ${e}] ${line}\n`),
  });
  done += n;
  for (const k of Object.keys(totals) as Array<keyof typeof totals>) totals[k] += report[k];
  recoveries.push(...report.recoveries.slice(1)); // an epoch's first start recovers nothing
  for (const p of report.problems) {
    process.stdout.write(`[epoch ${e}] PROBLEM ${p}\n`);
    problems.push(`epoch ${e}: ${p}`);
  }
}
const failed = totals.missing + totals.duplicates + totals.outOfOrder + totals.abortedVisible + totals.partial > 0 || problems.length > 0;
const ready = recoveries.map((r) => r.startToReadyMs).sort((a, b) => a - b);
const summary = {
  date: new Date().toISOString(),
  command: `pnpm exec node test/crash/run-transactions.ts --cycles ${cycles} --epoch ${epoch} --mode ${appendMode} --seed ${seed}`,
  seconds: Math.round((performance.now() - started) / 1000),
  loadAverage1mAtStart: Number(loadBefore.toFixed(2)),
  ...totals,
  startToReadyMs: { p50: percentile(ready, 50), p99: percentile(ready, 99), max: ready.at(-1) },
  result: failed ? 'FAILED' : 'PASSED',
  problems: problems.slice(0, 50),
};
process.stdout.write(
  `\n${appendMode} seed ${seed}: ${totals.cycles} SIGKILL cycles (+${totals.startupKills} during startup) in ${summary.seconds} s; ` +
    `transactions committed ${totals.committed}, aborted ${totals.aborted}, commit in flight at the kill ${totals.inDoubt} (${totals.inDoubtCommitted} of them committed), ` +
    `unfinished ${totals.unfinished}; ${totals.verifiedRecords} committed records verified; missing ${totals.missing}, duplicates ${totals.duplicates}, ` +
    `out of order ${totals.outOfOrder}, aborted visible ${totals.abortedVisible}, partial ${totals.partial}; ` +
    `start to ready p50 ${summary.startToReadyMs.p50} ms, max ${summary.startToReadyMs.max} ms — ${summary.result}\n`,
);
if (!values['no-record']) {
  const file = join(import.meta.dirname, 'last-transactions-run.json');
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
}
process.exitCode = failed ? 1 : 0;

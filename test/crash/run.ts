// Crash harness, long mode: `pnpm exec node test/crash/run.ts --cycles 200 [--mode mmap|pwrite|both]
// [--flush-on-ack] [--seed N] [--epoch 50] [--result]`. Runs the harness (harness.ts) in epochs of `--epoch`
// SIGKILL cycles, each on a fresh data dir (verification reads back every record acknowledged so
// far, so one ever-growing history would make each cycle slower than the last), prints a line
// per cycle and a summary per append mode, and exits 1 if anything acknowledged was lost,
// duplicated or reordered. `--result` also writes the summary as
// bench/results/<ISO time>-crash-<mode>.json (test/support/result-artifact.ts).

import { parseArgs } from 'node:util';
import { gitState, writeResultArtifact } from '../support/result-artifact.ts';
import { type Recovery, runCrashCycles } from './harness.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '200' },
    epoch: { type: 'string', default: '50' },
    mode: { type: 'string', default: 'both' },
    'flush-on-ack': { type: 'boolean', default: false },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    quiet: { type: 'boolean', default: false },
    result: { type: 'boolean', default: false },
  },
});
const cycles = Number(values.cycles);
const epoch = Number(values.epoch);
const seed = Number(values.seed);
if (!Number.isInteger(cycles) || cycles < 1) throw new Error('--cycles must be a positive integer');
if (!Number.isInteger(epoch) || epoch < 1) throw new Error('--epoch must be a positive integer');
if (!['mmap', 'pwrite', 'both'].includes(values.mode)) throw new Error('--mode must be mmap, pwrite or both');
const modes = values.mode === 'both' ? (['mmap', 'pwrite'] as const) : ([values.mode] as Array<'mmap' | 'pwrite'>);
const flushOnAck = values['flush-on-ack'];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

let failed = false;
const summaries: string[] = [];
const runStarted = new Date();
const gitAtStart = gitState();
const perMode: Array<Record<string, unknown>> = [];
const problems: string[] = [];
for (const [m, appendMode] of modes.entries()) {
  const started = performance.now();
  const totals = { cycles: 0, startupKills: 0, acknowledged: 0, verified: 0, lost: 0, duplicates: 0, outOfOrder: 0 };
  const recoveries: Recovery[] = [];
  for (let done = 0, e = 0; done < cycles; e++) {
    const n = Math.min(epoch, cycles - done);
    const report = await runCrashCycles({
      cycles: n,
      appendMode,
      flushOnAck,
      seed: seed + 1000 * m + e,
      producers: 2,
      window: 3,
      maxServeMs: 500,
      maxPaddingBytes: 100,
      progress: values.quiet ? undefined : (line) => process.stdout.write(`[${appendMode} epoch ${e}] ${line}\n`),
    });
    done += n;
    totals.cycles += report.cycles;
    totals.startupKills += report.startupKills;
    totals.acknowledged += report.acknowledged;
    totals.verified += report.verified;
    totals.lost += report.lost;
    totals.duplicates += report.duplicates;
    totals.outOfOrder += report.outOfOrder;
    recoveries.push(...report.recoveries.slice(1)); // the first start of an epoch recovers nothing
    for (const problem of report.problems) {
      process.stdout.write(`[${appendMode} epoch ${e}] PROBLEM ${problem}\n`);
      problems.push(`${appendMode} epoch ${e}: ${problem}`);
    }
    if (report.lost > 0 || report.duplicates > 0 || report.outOfOrder > 0 || report.problems.length > 0) failed = true;
  }
  const ready = recoveries.map((r) => r.startToReadyMs).sort((a, b) => a - b);
  const load = recoveries.map((r) => r.loadMs).sort((a, b) => a - b);
  perMode.push({
    appendMode,
    ...totals,
    seconds: Math.round((performance.now() - started) / 1000),
    startToReadyMs: { p50: percentile(ready, 50), p99: percentile(ready, 99), max: ready.at(-1) },
    logRecoveryMs: { p50: percentile(load, 50), max: load.at(-1) },
    mostSegmentsScanned: Math.max(...recoveries.map((r) => r.segmentsRecovered)),
  });
  summaries.push(
    `${appendMode}${flushOnAck ? ' flush-on-ack' : ''} seed ${seed}: ${totals.cycles} SIGKILL cycles (+${totals.startupKills} during startup) in ` +
      `${Math.round((performance.now() - started) / 1000)} s; ${totals.acknowledged} records acknowledged, ${totals.verified} verified after the last restart of each epoch, ` +
      `lost ${totals.lost}, duplicates ${totals.duplicates}, out of order ${totals.outOfOrder}; ` +
      `start to ready p50 ${percentile(ready, 50)} ms, p99 ${percentile(ready, 99)} ms, max ${ready.at(-1)} ms; ` +
      `broker log recovery p50 ${percentile(load, 50)} ms, max ${load.at(-1)} ms; most segments scanned ${Math.max(...recoveries.map((r) => r.segmentsRecovered))}`,
  );
}
process.stdout.write(`\n${summaries.join('\n')}\n`);
if (values.result) {
  const sum = (key: string) => perMode.reduce((n, m) => n + (m[key] as number), 0);
  const path = writeResultArtifact('crash', `${values.mode}-${flushOnAck ? 'flush-on-ack' : 'default'}`, runStarted, gitAtStart, {
    seed,
    epoch,
    flushOnAck,
    seconds: Math.round((Date.now() - runStarted.getTime()) / 1000),
    cycles: sum('cycles'),
    startupKills: sum('startupKills'),
    acknowledged: sum('acknowledged'),
    verified: sum('verified'),
    lost: sum('lost'),
    duplicates: sum('duplicates'),
    outOfOrder: sum('outOfOrder'),
    problems,
    modes: perMode,
  });
  process.stdout.write(`written to ${path}\n`);
}
process.exitCode = failed ? 1 : 0;

// Crash harness, long mode: `pnpm exec node test/crash/run.ts --cycles 200 [--mode mmap|pwrite|both]
// [--flush-on-ack] [--seed N]`. Prints a line per cycle and a summary per append mode; exits 1
// if anything acknowledged was lost, duplicated or reordered.

import { parseArgs } from 'node:util';
import { type CrashReport, runCrashCycles } from './harness.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '200' },
    mode: { type: 'string', default: 'both' },
    'flush-on-ack': { type: 'boolean', default: false },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    quiet: { type: 'boolean', default: false },
  },
});
const cycles = Number(values.cycles);
const seed = Number(values.seed);
if (!Number.isInteger(cycles) || cycles < 1) throw new Error('--cycles must be a positive integer');
if (!['mmap', 'pwrite', 'both'].includes(values.mode)) throw new Error('--mode must be mmap, pwrite or both');
const modes = values.mode === 'both' ? (['mmap', 'pwrite'] as const) : ([values.mode] as Array<'mmap' | 'pwrite'>);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

let failed = false;
const summaries: string[] = [];
for (const [i, appendMode] of modes.entries()) {
  const started = performance.now();
  const report: CrashReport = await runCrashCycles({
    cycles,
    appendMode,
    flushOnAck: values['flush-on-ack'],
    seed: seed + i,
    progress: values.quiet ? undefined : (line) => process.stdout.write(`[${appendMode}] ${line}\n`),
  });
  const ready = report.recoveries.slice(1).map((r) => r.startToReadyMs).sort((a, b) => a - b);
  const load = report.recoveries.slice(1).map((r) => r.loadMs).sort((a, b) => a - b);
  const segments = Math.max(...report.recoveries.map((r) => r.segmentsRecovered));
  const line =
    `${appendMode}${values['flush-on-ack'] ? ' flush-on-ack' : ''} seed ${seed + i}: ${report.cycles} SIGKILL cycles (+${report.startupKills} during startup) in ` +
    `${Math.round((performance.now() - started) / 1000)} s; ${report.acknowledged} records acknowledged, ${report.verified} verified, ` +
    `lost ${report.lost}, duplicates ${report.duplicates}, out of order ${report.outOfOrder}; ` +
    `start to ready p50 ${percentile(ready, 50)} ms, max ${report.maxStartToReadyMs} ms; broker log load p50 ${percentile(load, 50)} ms, ` +
    `max ${report.maxBrokerLoadMs} ms; most segments scanned ${segments}`;
  summaries.push(line);
  for (const problem of report.problems) process.stdout.write(`[${appendMode}] PROBLEM ${problem}\n`);
  if (report.lost > 0 || report.duplicates > 0 || report.outOfOrder > 0 || report.problems.length > 0) failed = true;
}
process.stdout.write(`\n${summaries.join('\n')}\n`);
process.exitCode = failed ? 1 : 0;

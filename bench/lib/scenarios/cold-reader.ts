// Scenario "cold" (issue 21 §2): do cold readers stall hot ones? 4 consumers tail a topic that a
// producer writes at a steady rate (loadgen e2e: each consumer's latency is produce timestamp →
// receipt, merged into one histogram), once alone and once while 1 more consumer reads another
// topic whose pages were dropped from the page cache (fsync, then posix_fadvise DONTNEED on
// every file of it — `dd iflag=nocache count=0` — before the cell and every DROP_EVERY_MS during
// it, so the reader stays cold however fast the disk is). Same for Sluice (default config:
// sendfile, pwrite, its cold-read threads) and Apache Kafka (its log dir files dropped the same
// way). The figure: the tail consumers' p99 with ÷ without the cold reader; goal ≤ 1.5×.

import { execFile, execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerProcess } from '../broker.ts';
import { type Context, measureCell, removeDir, scratchDir, sluiceBroker, syncDisks, warmUp } from '../context.ts';
import { runLoadgen } from '../loadgen.ts';
import { alternate } from '../profile.ts';
import type { TargetCheck } from '../report/tables.ts';
import type { Table } from '../report/table.ts';
import type { Lookup } from '../report/tables.ts';
import { type Cell, e2eMetrics } from '../results.ts';
import { GiB, KiB, MiB, fmt, fmtRatio, ratio } from '../units.ts';

export const COLD_TOPIC = 'bench-cold';
export const COLD_STATES = ['alone', 'cold'] as const;
export type ColdState = (typeof COLD_STATES)[number];
/** The goal: tail p99 with a cold reader ≤ this × without. */
export const COLD_GOAL = 1.5;
const DROP_EVERY_MS = 500;

interface ColdSettings {
  /** Written once to the cold topic (1 partition), larger than one read warms quickly. */
  coldBytes: number;
  /** The tail topic's steady produce rate and shape. */
  rateMbps: number;
  recordBytes: number;
  batchBytes: number;
  tailConsumers: number;
  warmupS: number;
  measureS: number;
}

/** Per profile, kept here (not in profile.ts) so the scenario stays one file. */
export function coldSettings(profileName: string): ColdSettings {
  const full = profileName === 'full';
  return {
    coldBytes: full ? GiB : 256 * MiB,
    rateMbps: 8,
    recordBytes: KiB,
    batchBytes: 16 * KiB,
    tailConsumers: 4,
    warmupS: full ? 1 : 0.5,
    measureS: full ? 5 : 2,
  };
}

let tailSeq = 0;

/** Drops the clean cached pages of every file of `topic`'s partition directories. */
function dropPages(dataDir: string, topic: string, background: boolean): void {
  const partitionDir = new RegExp(`^${topic}-\\d+$`);
  for (const entry of readdirSync(dataDir)) {
    if (!partitionDir.test(entry)) continue;
    const dir = join(dataDir, entry);
    for (const file of readdirSync(dir)) {
      const args = [`if=${join(dir, file)}`, 'iflag=nocache', 'count=0', 'status=none'];
      if (background) execFile('dd', args, () => {});
      else execFileSync('dd', args);
    }
  }
}

async function preload(ctx: Context, broker: BrokerProcess, s: ColdSettings): Promise<void> {
  ctx.log(`  writing ${s.coldBytes / MiB} MiB to ${COLD_TOPIC}`);
  await runLoadgen([
    'produce',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    COLD_TOPIC,
    '--partitions',
    '1',
    '--record-bytes',
    String(KiB),
    '--batch-bytes',
    String(64 * KiB),
    '--acks',
    '1',
    '--in-flight',
    '8',
    '--total-bytes',
    String(s.coldBytes),
  ]);
  syncDisks(); // DONTNEED drops clean pages only
}

async function cell(ctx: Context, broker: BrokerProcess, target: 'sluice' | 'kafka', state: ColdState, rep: number, s: ColdSettings): Promise<void> {
  tailSeq += 1;
  const topic = `bench-cold-tail-${process.pid}-${tailSeq}`;
  dropPages(broker.dataDir, COLD_TOPIC, false);
  const window = ['--warmup-seconds', String(s.warmupS), '--seconds', String(s.measureS)];
  let dropper: NodeJS.Timeout | null = null;
  let coldReader: Promise<any> | null = null;
  if (state === 'cold') {
    dropper = setInterval(() => dropPages(broker.dataDir, COLD_TOPIC, true), DROP_EVERY_MS);
    // Reads from the start, wrapping, over the same window as the tail cell (plus a margin).
    coldReader = runLoadgen([
      'consume',
      '--bootstrap',
      broker.bootstrap,
      '--topic',
      COLD_TOPIC,
      '--consumers',
      '1',
      '--from',
      'earliest',
      '--wrap',
      'true',
      '--partition-max-bytes',
      String(MiB),
      '--warmup-seconds',
      String(s.warmupS),
      '--seconds',
      String(s.measureS + 0.5),
    ]).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
  }
  const args = [
    'e2e',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    topic,
    '--partitions',
    '1',
    '--record-bytes',
    String(s.recordBytes),
    '--batch-bytes',
    String(s.batchBytes),
    '--acks',
    '1',
    '--in-flight',
    '8',
    '--rate-mbps',
    String(s.rateMbps),
    '--consumers',
    String(s.tailConsumers),
    '--max-wait-ms',
    '500',
    ...window,
  ];
  const mode = target === 'kafka' ? 'kafka' : 'sendfile';
  let c: Cell | null;
  try {
    c = await measureCell(ctx, broker, args, { scenario: 'cold', target, mode, key: { reader: state }, rep }, e2eMetrics);
  } finally {
    if (dropper !== null) clearInterval(dropper);
  }
  const cold = coldReader === null ? null : await coldReader;
  await runLoadgen(['delete-topics', '--bootstrap', broker.bootstrap, '--topics', topic]).catch(() => {});
  if (c === null) return;
  if (cold !== null && cold.error !== undefined) ctx.log(`  cold reader failed: ${String(cold.error).split('\n')[0]}`);
  const coldMbPerS: number | undefined = cold?.consume?.mb_per_s;
  // Broker CPU per GB of everything it moved in the window: the tail topic in (produce) and out
  // (each tail consumer), and the cold reader's bytes.
  const tailMb = c.metrics.mbPerS * (1 + s.tailConsumers);
  const movedGB = ((tailMb + (coldMbPerS ?? 0)) * s.measureS) / 1000;
  c.metrics = {
    ...c.metrics,
    ...(coldMbPerS === undefined ? {} : { coldMbPerS }),
    ...(c.broker === null || movedGB <= 0 ? {} : { cpuSPerGB: c.broker.cpuS / movedGB }),
  };
  const m = c.metrics;
  ctx.log(
    `  ${target} ${state === 'cold' ? 'with' : 'without'} a cold reader: tail p50 ${fmt((m.e2eP50Us ?? 0) / 1000)} ms, p99 ${fmt((m.e2eP99Us ?? 0) / 1000)} ms` +
      (coldMbPerS === undefined ? '' : `, cold reader ${fmt(coldMbPerS)} MB/s`),
  );
}

async function runOne(ctx: Context, target: 'sluice' | 'kafka', s: ColdSettings): Promise<void> {
  const workDir = scratchDir(ctx, `${target}-cold-`);
  try {
    const broker = target === 'kafka' ? await ctx.kafka!.start(workDir) : await sluiceBroker(ctx, workDir, 'sendfile', 'pwrite');
    try {
      await warmUp(ctx, broker);
      await preload(ctx, broker, s);
      for (let rep = 0; rep < ctx.profile.reps; rep++) {
        for (const state of alternate(COLD_STATES, rep)) await cell(ctx, broker, target, state, rep, s);
      }
    } finally {
      await broker.stop();
    }
  } finally {
    removeDir(workDir);
  }
}

export async function runColdReader(ctx: Context): Promise<void> {
  const s = coldSettings(ctx.profile.name);
  ctx.log(
    `cold: ${s.tailConsumers} tail consumers at ${s.rateMbps} MB/s, with and without 1 consumer reading ${s.coldBytes / MiB} MiB whose pages are dropped`,
  );
  await runOne(ctx, 'sluice', s);
  if (ctx.kafka !== null) await runOne(ctx, 'kafka', s);
}

const p99 = (l: Lookup, target: 'sluice' | 'kafka', state: ColdState) =>
  l.get('cold', target, target === 'kafka' ? 'kafka' : 'sendfile', { reader: state }, 'e2eP99Us');

/** Tail p99 with ÷ without the cold reader, per broker. */
function slowdown(l: Lookup, target: 'sluice' | 'kafka'): number | null {
  return ratio(p99(l, target, 'cold'), p99(l, target, 'alone'));
}

/** The goal as results JSON `targets` entries (value: the ratio; met when ≤ the goal). */
export function coldReaderTargets(l: Lookup): TargetCheck[] {
  const r = slowdown(l, 'sluice');
  if (r === null) return [];
  const kafka = slowdown(l, 'kafka');
  return [
    {
      what: `cold reader: sluice tail p99 with ÷ without ≤ ${COLD_GOAL}× (kafka ${fmtRatio(kafka)})`,
      value: r,
      goal: COLD_GOAL,
      met: r <= COLD_GOAL,
    },
  ];
}

export function coldReaderTable(l: Lookup): Table {
  const kafka = l.has('kafka');
  const targets = kafka ? (['sluice', 'kafka'] as const) : (['sluice'] as const);
  const columns = [
    'path',
    'cold MB/s',
    'MB/s ÷kafka',
    'CPU s/GB',
    'CPU ÷kafka',
    'tail p99 ms without',
    'tail p99 ms with',
    'with ÷ without',
    `goal ≤ ${COLD_GOAL}×`,
  ];
  const rows = targets.map((target) => {
    const mode = target === 'kafka' ? 'kafka' : 'sendfile';
    const g = (t: 'sluice' | 'kafka', m: 'coldMbPerS' | 'cpuSPerGB') => l.get('cold', t, t === 'kafka' ? 'kafka' : 'sendfile', { reader: 'cold' }, m);
    const vs = (m: 'coldMbPerS' | 'cpuSPerGB') => (kafka && target === 'sluice' ? fmtRatio(ratio(g('sluice', m), g('kafka', m))) : '');
    const r = slowdown(l, target);
    const goal = r === null ? 'not measured' : r <= COLD_GOAL ? 'met' : 'MISSED';
    const ms = (us: number | null) => fmt(us === null ? null : us / 1000);
    return [
      target === 'kafka' ? 'kafka' : `sluice ${mode}`,
      fmt(g(target, 'coldMbPerS')),
      vs('coldMbPerS'),
      fmt(g(target, 'cpuSPerGB')),
      vs('cpuSPerGB'),
      ms(p99(l, target, 'alone')),
      ms(p99(l, target, 'cold')),
      fmtRatio(r),
      target === 'sluice' ? goal : `${goal} (kafka's own ratio)`,
    ];
  });
  return {
    title: 'Cold reader: 4 consumers tailing hot data, with and without 1 consumer reading a topic whose pages were dropped',
    notes: [
      'tail p99: produce timestamp → receipt by each of the 4 tail consumers (one histogram), at a steady produce rate; medians over repetitions.',
      'cold MB/s: the cold reader (from the start of a topic whose pages are dropped before the cell and every 0.5 s during it).',
      'CPU s/GB: broker CPU in the cold cell per GB moved (tail produce + tail consumers + cold reader).',
    ],
    columns,
    labelColumns: 1,
    rows,
  };
}

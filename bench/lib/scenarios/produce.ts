// Scenario 2 (produce: acks 1 and -1, 100 B and 1 KiB records, 16 KiB and 1 MiB batches, mmap vs
// pwrite append) and scenario 3 (end-to-end latency at 10/50/80% of the lowest maximum produce
// rate found in scenario 2, the same offered load for every broker and mode). Every produce cell writes a fresh topic — new page-cache pages, like the
// raw append probe — which is deleted afterwards so the disk and the page cache do not fill up
// over a run. The raw append probe of the matching mode runs right after each broker session.

import type { BrokerProcess } from '../broker.ts';
import { type Context, measureCell, removeDir, scratchDir, sluiceBroker, syncDisks, warmUp, windowArgs } from '../context.ts';
import { runLoadgen } from '../loadgen.ts';
import { type ProduceCell, alternate } from '../profile.ts';
import { appendProbeMetrics, e2eMetrics, med, produceMetrics } from '../results.ts';
import { APPEND_MODES, type AppendMode } from '../sluice.ts';
import { GiB, MiB, fmt, sizeLabel } from '../units.ts';

/** The raw probe that matches each append mode: write(2) for pwrite, a mapping for mmap. */
export const PROBE_FOR: Record<AppendMode, string> = { pwrite: 'write', mmap: 'mmap' };

export function produceKey(c: ProduceCell): Record<string, string | number> {
  return { acks: c.acks, recordBytes: c.recordBytes, batchBytes: c.batchBytes };
}

/** "acks=1 100B/16KiB": acks, record size, batch size. */
export function cellLabel(c: ProduceCell): string {
  const record = c.recordBytes < 1024 ? `${c.recordBytes}B` : sizeLabel(c.recordBytes);
  return `acks=${c.acks} ${record}/${sizeLabel(c.batchBytes)}`;
}

let topicSeq = 0;
function freshTopic(prefix: string): string {
  topicSeq += 1;
  return `${prefix}-${process.pid}-${topicSeq}`;
}

/** Deletes a cell's topic. A broker that cannot (it crashed in the cell) already has its
 * failure recorded; the run goes on. */
async function deleteTopic(ctx: Context, broker: BrokerProcess, topic: string): Promise<void> {
  try {
    await runLoadgen(['delete-topics', '--bootstrap', broker.bootstrap, '--topics', topic]);
  } catch (err) {
    ctx.log(`  could not delete ${topic}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

function produceArgs(ctx: Context, broker: BrokerProcess, topic: string, c: ProduceCell): string[] {
  const p = ctx.profile;
  return [
    'produce',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    topic,
    '--partitions',
    String(p.partitions),
    '--record-bytes',
    String(c.recordBytes),
    '--batch-bytes',
    String(c.batchBytes),
    '--acks',
    String(c.acks),
    '--connections',
    String(p.produce.connections),
    '--in-flight',
    String(p.produce.inFlight),
    ...windowArgs(ctx),
  ];
}

function latencyMs(us: number | undefined): string {
  return us === undefined ? '—' : fmt(us / 1000);
}

async function produceCell(ctx: Context, broker: BrokerProcess, target: 'sluice' | 'kafka', mode: string, c: ProduceCell, rep: number): Promise<void> {
  const topic = freshTopic('bench-produce');
  const cell = await measureCell(
    ctx,
    broker,
    produceArgs(ctx, broker, topic, c),
    { scenario: 'produce', target, mode, key: produceKey(c), rep },
    produceMetrics,
  );
  await deleteTopic(ctx, broker, topic);
  if (cell === null) return;
  const m = cell.metrics;
  ctx.log(
    `  ${target === 'kafka' ? 'kafka' : `sluice ${mode}`} ${cellLabel(c)}: ${fmt(m.mbPerS)} MB/s, ${fmt(m.cpuSPerGB)} CPU s/GB, p99 ${latencyMs(m.produceP99Us)} ms`,
  );
}

async function appendProbe(ctx: Context, mode: AppendMode, rep: number): Promise<void> {
  const probeMode = PROBE_FOR[mode];
  const dir = scratchDir(ctx, 'probe-append-');
  try {
    const args = [
      'probe-append',
      '--mode',
      probeMode,
      '--dir',
      dir,
      '--chunk-bytes',
      String(MiB),
      '--segment-bytes',
      String(GiB),
      '--preallocate-step-bytes',
      String(32 * MiB),
      '--max-bytes',
      String(16 * GiB),
      ...windowArgs(ctx),
    ];
    const c = await measureCell(ctx, null, args, { scenario: 'produce', target: 'probe', mode: probeMode, key: {}, rep }, (o) => appendProbeMetrics(o.client));
    if (c !== null) ctx.log(`  raw ${probeMode} appends of 1 MiB into new pages: ${fmt(c.metrics.mbPerS)} MB/s`);
  } finally {
    removeDir(dir);
  }
}

export async function runProduce(ctx: Context): Promise<void> {
  const p = ctx.profile;
  for (let rep = 0; rep < p.reps; rep++) {
    for (const mode of alternate(APPEND_MODES, rep)) {
      ctx.log(`produce: sluice append mode ${mode} (repetition ${rep + 1}/${p.reps})`);
      const dataDir = scratchDir(ctx, 'sluice-produce-');
      try {
        const broker = await sluiceBroker(ctx, dataDir, 'sendfile', mode);
        try {
          await warmUp(ctx, broker);
          for (const c of alternate(p.produce.cells, rep)) await produceCell(ctx, broker, 'sluice', mode, c, rep);
        } finally {
          await broker.stop();
        }
      } finally {
        removeDir(dataDir);
      }
      syncDisks();
      await appendProbe(ctx, mode, rep);
      syncDisks();
    }
  }
  if (ctx.kafka !== null) {
    const kafka = ctx.kafka;
    ctx.log(`produce: Apache Kafka ${kafka.version}`);
    const workDir = scratchDir(ctx, 'kafka-produce-');
    try {
      const broker = await kafka.start(workDir);
      try {
        await warmUp(ctx, broker);
        for (let rep = 0; rep < p.reps; rep++) {
          for (const c of alternate(p.produce.cells, rep)) await produceCell(ctx, broker, 'kafka', 'kafka', c, rep);
        }
      } finally {
        await broker.stop();
      }
    } finally {
      removeDir(workDir);
    }
  }
}

/** The median maximum rate of the base cell in scenario 2, for one broker and mode. */
export function baseRate(ctx: Context, target: 'sluice' | 'kafka', mode: string): number | null {
  return med(ctx.cells, { scenario: 'produce', target, mode, key: produceKey(ctx.profile.e2e.base) }, 'mbPerS');
}

/**
 * The e2e scenario's 100%, shared by every broker and mode: the lowest of their produce-only
 * maxima. Each at its own maximum would compare one mode over capacity with another under it
 * (a produce-only maximum is not sustainable once a consumer is attached), so latency is
 * measured at the same offered load for all.
 */
export function sharedE2ERate(ctx: Context): number | null {
  const maxima = APPEND_MODES.map((mode) => baseRate(ctx, 'sluice', mode));
  if (ctx.kafka !== null) maxima.push(baseRate(ctx, 'kafka', 'kafka'));
  const known = maxima.filter((m): m is number => m !== null && m > 0);
  return known.length === 0 ? null : Math.min(...known);
}

async function e2eCell(
  ctx: Context,
  broker: BrokerProcess,
  target: 'sluice' | 'kafka',
  mode: string,
  pct: number,
  maxMbPerS: number,
  rep: number,
): Promise<void> {
  const p = ctx.profile;
  const base = p.e2e.base;
  const topic = freshTopic('bench-e2e');
  const rate = (maxMbPerS * pct) / 100;
  const args = [
    'e2e',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    topic,
    '--partitions',
    String(p.partitions),
    '--record-bytes',
    String(base.recordBytes),
    '--batch-bytes',
    String(base.batchBytes),
    '--acks',
    String(base.acks),
    '--connections',
    String(p.produce.connections),
    '--in-flight',
    String(p.produce.inFlight),
    '--rate-mbps',
    rate.toFixed(3),
    '--consumers',
    '1',
    '--max-wait-ms',
    String(p.e2e.maxWaitMs),
    ...windowArgs(ctx),
  ];
  const c = await measureCell(ctx, broker, args, { scenario: 'e2e', target, mode, key: { ratePct: pct }, rep }, e2eMetrics);
  await deleteTopic(ctx, broker, topic);
  if (c === null) return;
  const m = c.metrics;
  ctx.log(
    `  ${target === 'kafka' ? 'kafka' : `sluice ${mode}`} ${pct}% (${fmt(rate)} MB/s): e2e p50 ${latencyMs(m.e2eP50Us)} ms, p99 ${latencyMs(m.e2eP99Us)} ms, p99.9 ${latencyMs(m.e2eP999Us)} ms`,
  );
}

export async function runE2E(ctx: Context): Promise<void> {
  const p = ctx.profile;
  for (let rep = 0; rep < p.reps; rep++) {
    for (const mode of alternate(APPEND_MODES, rep)) {
      const max = sharedE2ERate(ctx);
      if (max === null) {
        ctx.log(`e2e: no maximum rate from the produce scenario; skipped`);
        continue;
      }
      ctx.log(
        `e2e: sluice append mode ${mode}, 100% = ${fmt(max)} MB/s, the lowest produce maximum of all brokers and modes (repetition ${rep + 1}/${p.reps})`,
      );
      const dataDir = scratchDir(ctx, 'sluice-e2e-');
      try {
        const broker = await sluiceBroker(ctx, dataDir, 'sendfile', mode);
        try {
          await warmUp(ctx, broker);
          for (const pct of alternate(p.e2e.ratePcts, rep)) await e2eCell(ctx, broker, 'sluice', mode, pct, max, rep);
        } finally {
          await broker.stop();
        }
      } finally {
        removeDir(dataDir);
      }
    }
  }
  if (ctx.kafka !== null) {
    const max = sharedE2ERate(ctx);
    if (max === null || baseRate(ctx, 'kafka', 'kafka') === null) return ctx.log('e2e: no maximum rate for Apache Kafka from the produce scenario; skipped');
    ctx.log(`e2e: Apache Kafka ${ctx.kafka.version}, 100% = ${fmt(max)} MB/s (shared with Sluice)`);
    const workDir = scratchDir(ctx, 'kafka-e2e-');
    try {
      const broker = await ctx.kafka.start(workDir);
      try {
        await warmUp(ctx, broker);
        for (let rep = 0; rep < p.reps; rep++) {
          for (const pct of alternate(p.e2e.ratePcts, rep)) await e2eCell(ctx, broker, 'kafka', 'kafka', pct, max, rep);
        }
      } finally {
        await broker.stop();
      }
    } finally {
      removeDir(workDir);
    }
  }
}

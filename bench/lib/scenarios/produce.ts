// Scenario 2 (produce: acks 1 and -1, 100 B and 1 KiB records, 16 KiB and 1 MiB batches, mmap vs
// pwrite append, and 4-connection cells) and scenario 3 (end-to-end latency at 10/50/80% of the
// lowest maximum produce rate found in scenario 2, the same offered load for every broker and
// mode, and at 50% of each one's own maximum). Every produce cell writes a fresh topic — new page-cache pages, like the
// raw append probe — which is deleted afterwards so the disk and the page cache do not fill up
// over a run. The raw append probe of the matching mode runs right after each broker session.

import type { BrokerProcess } from '../broker.ts';
import { type Context, brokerSession, measureCell, removeDir, scratchDir, sluiceBroker, syncDisks, warmUp, windowArgs } from '../context.ts';
import { runLoadgen } from '../loadgen.ts';
import { type Profile, type ProduceCell, alternate } from '../profile.ts';
import { appendProbeMetrics, e2eMetrics, med, produceMetrics } from '../results.ts';
import { APPEND_MODES, type AppendMode } from '../sluice.ts';
import { GiB, MiB, fmt, sizeLabel } from '../units.ts';

/** The raw probe that matches each append mode: write(2) for pwrite, a mapping for mmap. */
export const PROBE_FOR: Record<AppendMode, string> = { pwrite: 'write', mmap: 'mmap' };

/** A cell's key; `connections` only for the cells that set it, so the one-connection cells keep
 * the key older result files have. */
export function produceKey(c: ProduceCell): Record<string, string | number> {
  const key: Record<string, string | number> = { acks: c.acks, recordBytes: c.recordBytes, batchBytes: c.batchBytes };
  if (c.connections !== undefined) key.connections = c.connections;
  return key;
}

/** "acks=1 100B/16KiB": acks, record size, batch size (and " ×4 conn" for more connections). */
export function cellLabel(c: ProduceCell): string {
  const record = c.recordBytes < 1024 ? `${c.recordBytes}B` : sizeLabel(c.recordBytes);
  return `acks=${c.acks} ${record}/${sizeLabel(c.batchBytes)}${c.connections === undefined ? '' : ` ×${c.connections} conn`}`;
}

/** The cells one broker session measures: the append-mode matrix, plus the connection cells for
 * the default append mode and Kafka. */
export function produceCells(p: Profile, mode: string): ProduceCell[] {
  return mode === 'mmap' ? [...p.produce.cells] : [...p.produce.cells, ...p.produce.connectionCells];
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
    String(c.connections ?? p.produce.connections),
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
    const c = await measureCell(ctx, null, args, { scenario: 'produce', target: 'probe', mode: probeMode, key: {}, rep }, (o) =>
      appendProbeMetrics(o.client, o.memory),
    );
    if (c !== null) {
      const m = c.metrics;
      ctx.log(
        `  raw ${probeMode} appends of 1 MiB into new pages: ${fmt(m.mbPerS)} MB/s (per byte appended: ${fmt(m.writebackPerByte)} written back, ${fmt(m.reclaimPerByte)} reclaimed)`,
      );
    }
  } finally {
    removeDir(dir);
  }
}

/** A broker session of the produce and e2e scenarios: a Sluice append mode, or Kafka. */
type Session = AppendMode | 'kafka';

function sessions(ctx: Context): Session[] {
  return [...APPEND_MODES, ...(ctx.kafka === null ? [] : (['kafka'] as const))];
}

/** Starts a broker for one session on `dir`, runs `body` after the warm-up, stops it. Kafka
 * restarts on the same directory (formatted once), Sluice on its fresh one. */
async function withBroker(ctx: Context, session: Session, dir: string, body: (b: BrokerProcess) => Promise<void>): Promise<void> {
  await brokerSession(ctx, `${session} broker session`, async () => {
    const broker = session === 'kafka' ? await ctx.kafka!.start(dir) : await sluiceBroker(ctx, dir, 'sendfile', session);
    try {
      await warmUp(ctx, broker);
      await body(broker);
    } finally {
      await broker.stop();
    }
  });
}

/** Brokers interleaved per repetition (mmap, pwrite, Kafka; order alternating), each started
 * and warmed up afresh, so no broker's cells all come from one long-running process. */
export async function runProduce(ctx: Context): Promise<void> {
  const p = ctx.profile;
  const kafkaDir = ctx.kafka === null ? null : scratchDir(ctx, 'kafka-produce-');
  try {
    for (let rep = 0; rep < p.reps; rep++) {
      for (const session of alternate(sessions(ctx), rep)) {
        if (session === 'kafka') {
          ctx.log(`produce: Apache Kafka ${ctx.kafka!.version} (repetition ${rep + 1}/${p.reps})`);
          await withBroker(ctx, session, kafkaDir!, async (broker) => {
            for (const c of alternate(produceCells(p, session), rep)) await produceCell(ctx, broker, 'kafka', 'kafka', c, rep);
          });
          continue;
        }
        ctx.log(`produce: sluice append mode ${session} (repetition ${rep + 1}/${p.reps})`);
        const dataDir = scratchDir(ctx, 'sluice-produce-');
        try {
          await withBroker(ctx, session, dataDir, async (broker) => {
            for (const c of alternate(produceCells(p, session), rep)) await produceCell(ctx, broker, 'sluice', session, c, rep);
          });
        } finally {
          removeDir(dataDir);
        }
        syncDisks();
        await appendProbe(ctx, session, rep);
        syncDisks();
      }
    }
  } finally {
    if (kafkaDir !== null) removeDir(kafkaDir);
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

/** The e2e cells: a percentage of the shared rate, or of the broker's own maximum. */
export interface E2ELoad {
  pct: number;
  of: 'shared' | 'own';
}

/** The shared-rate cells keep the key older result files have ({ ratePct }). */
export function e2eKey(load: E2ELoad): Record<string, string | number> {
  return load.of === 'shared' ? { ratePct: load.pct } : { ratePct: load.pct, of: 'own' };
}

/** The e2e cells of a profile (a profile read from an older result file has no ownPcts). */
export function e2eLoads(p: Profile): E2ELoad[] {
  const own = (p.e2e.ownPcts as readonly number[] | undefined) ?? [];
  return [...p.e2e.ratePcts.map((pct) => ({ pct, of: 'shared' as const })), ...own.map((pct) => ({ pct, of: 'own' as const }))];
}

async function e2eCell(
  ctx: Context,
  broker: BrokerProcess,
  target: 'sluice' | 'kafka',
  mode: string,
  load: E2ELoad,
  maxMbPerS: number,
  own: number,
  rep: number,
): Promise<void> {
  const p = ctx.profile;
  const base = p.e2e.base;
  const topic = freshTopic('bench-e2e');
  const rate = (maxMbPerS * load.pct) / 100;
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
  const c = await measureCell(ctx, broker, args, { scenario: 'e2e', target, mode, key: e2eKey(load), rep }, e2eMetrics);
  await deleteTopic(ctx, broker, topic);
  if (c === null) return;
  const m = c.metrics;
  ctx.log(
    `  ${target === 'kafka' ? 'kafka' : `sluice ${mode}`} ${load.pct}% of ${load.of === 'own' ? 'its own maximum' : 'the shared rate'} (${fmt(rate)} MB/s, ${fmt((rate / own) * 100)}% of its own maximum): e2e p50 ${latencyMs(m.e2eP50Us)} ms, p99 ${latencyMs(m.e2eP99Us)} ms, p99.9 ${latencyMs(m.e2eP999Us)} ms`,
  );
}

/** Brokers interleaved per repetition like the produce scenario. Each broker runs the shared
 * rate's percentages (the same offered load for all) and its own maximum's (each equally far
 * from its own saturation); the log and the table give both as a percentage of its own maximum. */
export async function runE2E(ctx: Context): Promise<void> {
  const p = ctx.profile;
  const shared = sharedE2ERate(ctx);
  if (shared === null) return ctx.log('e2e: no maximum rate from the produce scenario; skipped');
  const kafkaDir = ctx.kafka === null ? null : scratchDir(ctx, 'kafka-e2e-');
  try {
    for (let rep = 0; rep < p.reps; rep++) {
      for (const session of alternate(sessions(ctx), rep)) {
        const target = session === 'kafka' ? 'kafka' : 'sluice';
        const own = baseRate(ctx, target, session);
        if (own === null || own <= 0) {
          ctx.log(`e2e: no produce maximum for ${session}; skipped`);
          continue;
        }
        ctx.log(
          `e2e: ${session === 'kafka' ? `Apache Kafka ${ctx.kafka!.version}` : `sluice append mode ${session}`}, shared 100% = ${fmt(shared)} MB/s (${fmt((shared / own) * 100)}% of its own maximum ${fmt(own)} MB/s) (repetition ${rep + 1}/${p.reps})`,
        );
        const dataDir = session === 'kafka' ? kafkaDir! : scratchDir(ctx, 'sluice-e2e-');
        try {
          await withBroker(ctx, session, dataDir, async (broker) => {
            for (const load of alternate(e2eLoads(p), rep)) await e2eCell(ctx, broker, target, session, load, load.of === 'own' ? own : shared, own, rep);
          });
        } finally {
          if (session !== 'kafka') removeDir(dataDir);
        }
      }
    }
  } finally {
    if (kafkaDir !== null) removeDir(kafkaDir);
  }
}

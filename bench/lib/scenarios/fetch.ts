// Scenario 1 (fetch from page cache, 1 and 4 consumers, each receiver behaviour) and scenario 4
// (fan-out: 1, 2, 4, 8 consumers of the same hot data). One data set is written once, flushed,
// and re-read by every broker start: Sluice in each transfer mode (alternating order per
// repetition), each cell next to the raw transfer probe of the same mode, receiver and stream
// count, measured right after or right before it. With --vs-kafka, Apache Kafka reads its own
// copy of the same data set, restarted per repetition and interleaved with Sluice's setups.
// Sluice runs its defaults (pwrite append mode, metrics endpoint on): the append mode does not
// change how a fetch reads the page cache, so no mmap row is measured here.
// The fan-out cells also run sendfile with one writer thread (`sendfile-1thread`) and with the
// writer as it was before issue 21 (one thread, the kernel's autotuned send buffer:
// `sendfile-1thread-autobuf`), so each run shows what the writer threads and the bounded send
// buffer each change, measured side by side.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BrokerProcess } from '../broker.ts';
import { type Context, brokerSession, makeProbeFile, measureCell, removeDir, scratchDir, sluiceBroker, syncDisks, warmUp, windowArgs } from '../context.ts';
import { runLoadgen } from '../loadgen.ts';
import { type FetchCell, RECEIVERS, alternate, fetchCells } from '../profile.ts';
import { type Cell, fetchMetrics, transferProbeMetrics } from '../results.ts';
import { DEFAULT_APPEND_MODE, TRANSFER_MODES, type TransferMode } from '../sluice.ts';
import { fmt, sizeLabel } from '../units.ts';

export const FETCH_TOPIC = 'bench-fetch';
/** Sluice's writer defaults, used by the probes so "same mode" means the same pipe and buffer. */
export const SPLICE_PIPE_BYTES = 256 * 1024;
export const COPY_BUFFER_BYTES = 1024 * 1024;
/** Sluice's default `socket.send.buffer.bytes` (Kafka's), given to the probes' sockets too. */
export const SEND_BUFFER_BYTES = 102400;
/** The probes send from as many threads as there are cores (at most one per stream), as
 * Sluice's writer does by default: one sender thread is no ceiling for several streams. */
export const PROBE_SENDER_THREADS = Math.max(1, availableParallelism());

/** A Sluice broker configuration the fetch scenario measures. */
interface SluiceSetup {
  /** The cell's mode in results and tables. */
  mode: string;
  transferMode: TransferMode;
  overrides?: Record<string, string>;
  /** Only the fan-out cells (no probes) — for comparison setups. */
  fanoutOnly: boolean;
}

/** The writer before issue 21: one thread, the kernel's autotuned send buffer. */
export const SINGLE_WRITER_MODE = 'sendfile-1thread-autobuf';

/** Fan-out comparison setups (sendfile with other writer settings), each with what it is. */
export const WRITER_COMPARISONS: readonly { mode: string; overrides: Record<string, string>; describe: string }[] = [
  {
    mode: 'sendfile-1thread',
    overrides: { 'sluice.writer.threads': '1' },
    describe: 'sendfile with one writer thread (sluice.writer.threads=1), the default send buffer',
  },
  {
    mode: SINGLE_WRITER_MODE,
    overrides: { 'sluice.writer.threads': '1', 'socket.send.buffer.bytes': '-1' },
    describe: 'sendfile with the writer as before issue 21 (sluice.writer.threads=1, socket.send.buffer.bytes=-1)',
  },
];

function setups(): SluiceSetup[] {
  return [
    ...TRANSFER_MODES.map((transferMode) => ({ mode: transferMode, transferMode, fanoutOnly: false })),
    ...WRITER_COMPARISONS.map((c) => ({ mode: c.mode, transferMode: 'sendfile' as const, overrides: c.overrides, fanoutOnly: true })),
  ];
}

export function fetchKey(cell: FetchCell): Record<string, string | number> {
  return { receiver: cell.receiver.name, consumers: cell.consumers };
}

async function preload(ctx: Context, broker: BrokerProcess): Promise<void> {
  const f = ctx.profile.fetch;
  ctx.log(`  writing ${sizeLabel(f.dataBytes)} to ${FETCH_TOPIC} (${ctx.profile.partitions} partitions) on ${broker.label}`);
  await runLoadgen([
    'produce',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    FETCH_TOPIC,
    '--partitions',
    String(ctx.profile.partitions),
    '--record-bytes',
    String(f.recordBytes),
    '--batch-bytes',
    String(f.batchBytes),
    '--acks',
    '1',
    '--in-flight',
    '8',
    '--total-bytes',
    String(f.dataBytes),
  ]);
  syncDisks();
}

function consumeArgs(ctx: Context, broker: BrokerProcess, cell: FetchCell): string[] {
  const f = ctx.profile.fetch;
  return [
    'consume',
    '--bootstrap',
    broker.bootstrap,
    '--topic',
    FETCH_TOPIC,
    '--from',
    'earliest',
    '--consumers',
    String(cell.consumers),
    '--read-bytes',
    String(cell.receiver.readBytes),
    '--rcvlowat',
    String(cell.receiver.rcvlowat),
    '--partition-max-bytes',
    String(f.partitionMaxBytes),
    '--fetch-max-bytes',
    String(f.fetchMaxBytes),
    ...windowArgs(ctx),
  ];
}

function probeArgs(ctx: Context, mode: TransferMode, cell: FetchCell, file: string): string[] {
  return [
    'probe-transfer',
    '--mode',
    mode,
    '--streams',
    String(cell.consumers),
    '--file',
    file,
    '--chunk-bytes',
    String(ctx.profile.fetch.partitionMaxBytes),
    '--pipe-bytes',
    String(SPLICE_PIPE_BYTES),
    '--copy-buffer-bytes',
    String(COPY_BUFFER_BYTES),
    '--sender-threads',
    String(PROBE_SENDER_THREADS),
    '--sndbuf',
    String(SEND_BUFFER_BYTES),
    '--read-bytes',
    String(cell.receiver.readBytes),
    '--rcvlowat',
    String(cell.receiver.rcvlowat),
    ...windowArgs(ctx),
  ];
}

function line(c: Cell): string {
  const m = c.metrics;
  const cpu = m.cpuSPerGB === undefined ? '' : `, ${fmt(m.cpuSPerGB)} CPU s/GB`;
  return `${fmt(m.mbPerS)} MB/s${cpu}`;
}

async function brokerCell(ctx: Context, broker: BrokerProcess, target: 'sluice' | 'kafka', mode: string, cell: FetchCell, rep: number): Promise<void> {
  const c = await measureCell(ctx, broker, consumeArgs(ctx, broker, cell), { scenario: 'fetch', target, mode, key: fetchKey(cell), rep }, fetchMetrics);
  if (c !== null) ctx.log(`  ${target === 'kafka' ? 'kafka' : `sluice ${mode}`} ${cell.receiver.name} ×${cell.consumers}: ${line(c)}`);
}

async function probeCell(ctx: Context, mode: TransferMode, cell: FetchCell, file: string, rep: number): Promise<void> {
  const c = await measureCell(ctx, null, probeArgs(ctx, mode, cell, file), { scenario: 'fetch', target: 'probe', mode, key: fetchKey(cell), rep }, (o) =>
    transferProbeMetrics(o.client),
  );
  if (c !== null) ctx.log(`  raw ${mode} ${cell.receiver.name} ×${cell.consumers}: ${line(c)}`);
}

/** One broker session of a repetition: a Sluice setup, or Apache Kafka. */
type FetchSession = { kind: 'sluice'; setup: SluiceSetup } | { kind: 'kafka' };

/**
 * Every broker is started, warmed up and stopped once per repetition, and the brokers take
 * turns within a repetition (Sluice's setups and Kafka interleaved, order alternating per
 * repetition): one JVM serving every cell after one warm-up made Kafka's cells depend on how
 * long it had run, and a broker run after another one gets a warmer machine.
 */
export async function runFetch(ctx: Context): Promise<void> {
  const p = ctx.profile;
  const cells = fetchCells(p);
  const dataDir = scratchDir(ctx, 'sluice-fetch-');
  const kafkaDir = ctx.kafka === null ? null : scratchDir(ctx, 'kafka-fetch-');
  const probeFile = join(ctx.tmpRoot, 'probe-transfer.dat');
  try {
    ctx.log('fetch: preparing the hot data set');
    // Written by a broker in the default append mode, as every cell reads it in that mode.
    const loader = await sluiceBroker(ctx, dataDir, 'sendfile', DEFAULT_APPEND_MODE);
    try {
      await preload(ctx, loader);
    } finally {
      await loader.stop();
    }
    if (kafkaDir !== null) {
      await brokerSession(ctx, 'fetch kafka preload', async () => {
        const k = await ctx.kafka!.start(kafkaDir);
        try {
          await preload(ctx, k);
        } finally {
          await k.stop();
        }
      });
    }
    makeProbeFile(probeFile, p.fetch.dataBytes);
    const fanoutCells = cells.filter((c) => c.receiver.name === RECEIVERS[0]!.name && p.fetch.fanout.includes(c.consumers));
    const sessions: FetchSession[] = [
      ...setups().map((setup) => ({ kind: 'sluice' as const, setup })),
      ...(kafkaDir === null ? [] : [{ kind: 'kafka' as const }]),
    ];
    for (let rep = 0; rep < p.reps; rep++) {
      for (const session of alternate(sessions, rep)) {
        if (session.kind === 'kafka') {
          ctx.log(`fetch: Apache Kafka ${ctx.kafka!.version} (repetition ${rep + 1}/${p.reps})`);
          await brokerSession(ctx, `fetch kafka session repetition ${rep + 1}`, async () => {
            const broker = await ctx.kafka!.start(kafkaDir!);
            try {
              await warmUp(ctx, broker);
              for (const cell of alternate(cells, rep)) await brokerCell(ctx, broker, 'kafka', 'kafka', cell, rep);
            } finally {
              await broker.stop();
            }
          });
          continue;
        }
        const { mode, transferMode } = session.setup;
        ctx.log(`fetch: sluice ${mode} (repetition ${rep + 1}/${p.reps})`);
        await brokerSession(ctx, `fetch sluice ${mode} session repetition ${rep + 1}`, async () => {
          const broker = await sluiceBroker(ctx, dataDir, transferMode, DEFAULT_APPEND_MODE, session.setup.overrides);
          try {
            await warmUp(ctx, broker);
            for (const cell of alternate(session.setup.fanoutOnly ? fanoutCells : cells, rep)) {
              const runs = [() => brokerCell(ctx, broker, 'sluice', mode, cell, rep)];
              if (!session.setup.fanoutOnly && p.fetch.probeStreams.includes(cell.consumers))
                runs.push(() => probeCell(ctx, transferMode, cell, probeFile, rep));
              for (const run of alternate(runs, rep)) await run();
            }
          } finally {
            await broker.stop();
          }
        });
      }
    }
  } finally {
    removeDir(dataDir);
    if (kafkaDir !== null) removeDir(kafkaDir);
    removeDir(probeFile);
  }
}

// Scenario 7 (`--only txn`): transactional produce on Sluice and (with --vs-kafka) Apache Kafka,
// with the same load generator (`loadgen txn-produce`: FindCoordinator, InitProducerId with a
// transactional id, then AddPartitionsToTxn, N transactional batches with acks=-1, EndTxn commit,
// in a loop). Committed MB/s, broker CPU per GB, EndTxn (commit) latency p50/p99, produce p99.
//
// The load generator rather than Kafka's ProducerPerformance --transactional-id: it reports the
// commit latency itself (ProducerPerformance reports per-record latency only), announces its
// measured window so the broker is sampled over the same span as every other scenario, and costs
// far less CPU than a JVM client on the two cores the broker shares.

import type { BrokerProcess } from '../broker.ts';
import { type Context, measureCell, removeDir, scratchDir, sluiceBroker, warmUp, windowArgs } from '../context.ts';
import type { Observation } from '../measure.ts';
import { runLoadgen } from '../loadgen.ts';
import { alternate } from '../profile.ts';
import { type Metrics, produceMetrics } from '../results.ts';
import { KiB, MiB, fmt, sizeLabel } from '../units.ts';

export interface TxnCell {
  recordBytes: number;
  batchBytes: number;
  batchesPerTxn: number;
}

export const TXN_CELLS: readonly TxnCell[] = [
  { recordBytes: KiB, batchBytes: 16 * KiB, batchesPerTxn: 8 },
  { recordBytes: KiB, batchBytes: MiB, batchesPerTxn: 4 },
];

export function txnKey(c: TxnCell): Record<string, string | number> {
  return { recordBytes: c.recordBytes, batchBytes: c.batchBytes, batchesPerTxn: c.batchesPerTxn };
}

export function txnLabel(c: TxnCell): string {
  return `${sizeLabel(c.recordBytes)}/${sizeLabel(c.batchBytes)} ×${c.batchesPerTxn} per txn`;
}

export function txnMetrics(o: Observation): Metrics {
  const t = o.client.transactions;
  return { ...produceMetrics(o), txnPerS: t.per_s, commitP50Us: t.commit_latency_us.p50_us, commitP99Us: t.commit_latency_us.p99_us };
}

let seq = 0;

async function cell(ctx: Context, broker: BrokerProcess, target: 'sluice' | 'kafka', c: TxnCell, rep: number): Promise<void> {
  seq += 1;
  const topic = `bench-txn-${process.pid}-${seq}`;
  const args = ['txn-produce', '--bootstrap', broker.bootstrap, '--topic', topic, '--partitions', String(ctx.profile.partitions)];
  args.push('--record-bytes', String(c.recordBytes), '--batch-bytes', String(c.batchBytes), '--batches-per-txn', String(c.batchesPerTxn));
  args.push('--transactional-id', `${topic}-producer`, '--in-flight', '5', ...windowArgs(ctx));
  const m = await measureCell(ctx, broker, args, { scenario: 'txn', target, mode: target, key: txnKey(c), rep }, txnMetrics);
  try {
    await runLoadgen(['delete-topics', '--bootstrap', broker.bootstrap, '--topics', topic]);
  } catch (err) {
    ctx.log(`  could not delete ${topic}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (m === null) return;
  const x = m.metrics;
  const ms = (us: number | undefined) => (us === undefined ? '—' : fmt(us / 1000));
  ctx.log(`  ${target} ${txnLabel(c)}: ${fmt(x.mbPerS)} MB/s, ${fmt(x.cpuSPerGB)} CPU s/GB, ${fmt(x.txnPerS)} txn/s, commit p99 ${ms(x.commitP99Us)} ms`);
}

async function runOn(ctx: Context, target: 'sluice' | 'kafka'): Promise<void> {
  const dir = scratchDir(ctx, `${target}-txn-`);
  try {
    const broker = target === 'sluice' ? await sluiceBroker(ctx, dir, 'sendfile', 'pwrite') : await ctx.kafka!.start(dir);
    try {
      await warmUp(ctx, broker);
      for (let rep = 0; rep < ctx.profile.reps; rep++) for (const c of alternate(TXN_CELLS, rep)) await cell(ctx, broker, target, c, rep);
    } finally {
      await broker.stop();
    }
  } finally {
    removeDir(dir);
  }
}

export async function runTxn(ctx: Context): Promise<void> {
  ctx.log('txn: transactional produce, Sluice (pwrite append)');
  await runOn(ctx, 'sluice');
  if (ctx.kafka !== null) {
    ctx.log(`txn: Apache Kafka ${ctx.kafka.version}`);
    await runOn(ctx, 'kafka');
  }
}

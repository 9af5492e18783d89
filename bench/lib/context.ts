// What every scenario needs: the profile, where to put temporary data, how to start brokers,
// how to count syscalls, and the list the measured cells go into.

import { execFileSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { BrokerProcess } from './broker.ts';
import { runLoadgen } from './loadgen.ts';
import { type Observation, observe } from './measure.ts';
import type { Profile } from './profile.ts';
import type { Cell, Metrics, Scenario, Target } from './results.ts';
import { type AppendMode, type TransferMode, startSluice } from './sluice.ts';
import { MiB } from './units.ts';

export interface KafkaSide {
  version: string;
  libs: string;
  java: string;
  start(workDir: string): Promise<BrokerProcess>;
}

export interface Context {
  profile: Profile;
  /** Scratch space on the filesystem the brokers write to; removed at the end. */
  tmpRoot: string;
  syscallEvents: string[] | null;
  kafka: KafkaSide | null;
  cells: Cell[];
  failures: Failure[];
  log(line: string): void;
}

export function scratchDir(ctx: Context, prefix: string): string {
  return mkdtempSync(join(ctx.tmpRoot, prefix));
}

export function sluiceBroker(
  _ctx: Context,
  dataDir: string,
  transferMode: TransferMode,
  appendMode: AppendMode,
  overrides?: Record<string, string>,
): Promise<BrokerProcess> {
  return startSluice({ dataDir, transferMode, appendMode, ...(overrides === undefined ? {} : { overrides }) });
}

let warmupSeq = 0;

/** Produce, then fetch, on a scratch topic for `brokerWarmupS` seconds each, then delete it:
 * a freshly started broker runs its first requests in an interpreter (V8, the JVM), and the
 * first measurement should not pay for that. */
export async function warmUp(ctx: Context, broker: BrokerProcess): Promise<void> {
  const s = ctx.profile.brokerWarmupS;
  if (s <= 0) return;
  warmupSeq += 1;
  const topic = `bench-warmup-${process.pid}-${warmupSeq}`;
  const common = ['--bootstrap', broker.bootstrap, '--topic', topic, '--warmup-seconds', '0', '--seconds', String(s)];
  await runLoadgen([
    'produce',
    ...common,
    '--partitions',
    String(ctx.profile.partitions),
    '--record-bytes',
    '1024',
    '--batch-bytes',
    '16384',
    '--in-flight',
    '8',
  ]);
  await runLoadgen(['consume', ...common, '--consumers', '2']);
  await runLoadgen(['delete-topics', '--bootstrap', broker.bootstrap, '--topics', topic]);
}

/** Common loadgen window options. */
export function windowArgs(ctx: Context): string[] {
  return ['--warmup-seconds', String(ctx.profile.warmupS), '--seconds', String(ctx.profile.measureS)];
}

/** A measurement that failed; the run goes on and reports these at the end. */
export interface Failure {
  what: string;
  error: string;
}

/** Runs one measurement and records it as a cell. A failure (the broker answered with errors,
 * crashed, or a probe could not run) is recorded and logged, and null returned, so one bad cell
 * does not throw away the rest of a long run. */
export async function measureCell(
  ctx: Context,
  broker: BrokerProcess | null,
  args: string[],
  cell: { scenario: Scenario; target: Target; mode: string; key: Record<string, string | number>; rep: number },
  derive: (o: Observation) => Metrics,
): Promise<Cell | null> {
  try {
    const o = await observe(broker, args, { syscallEvents: broker === null ? null : ctx.syscallEvents });
    const recorded: Cell = { ...cell, metrics: derive(o), broker: o.broker, syscallsNote: o.syscallsNote, client: o.client, memory: o.memory };
    ctx.cells.push(recorded);
    return recorded;
  } catch (err) {
    const what = `${cell.scenario} ${cell.target} ${cell.mode} ${JSON.stringify(cell.key)} repetition ${cell.rep + 1}`;
    const error = err instanceof Error ? err.message : String(err);
    ctx.failures.push({ what, error });
    ctx.log(`  FAILED ${what}: ${error.split('\n')[0]}`);
    return null;
  }
}

/** Runs one broker session (start, warm-up, cells, stop). A broker that fails to start, or a
 * session that fails outside a cell, is recorded as a failure and the run goes on: one JVM that
 * would not start should not throw away the rest of a 40-minute run. */
export async function brokerSession(ctx: Context, what: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    ctx.failures.push({ what, error });
    ctx.log(`  FAILED ${what}: ${error.split('\n')[0]}`);
  }
}

/** Flushes dirty pages so writeback from setup does not run inside a measurement. */
export function syncDisks(): void {
  execFileSync('sync');
}

/** A file of pattern bytes for the raw transfer probe, flushed and then read once so it sits in
 * the page cache like the broker's segments do. */
export function makeProbeFile(path: string, bytes: number): void {
  const chunk = Buffer.alloc(MiB);
  let x = 0x9e3779b9;
  for (let i = 0; i < chunk.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    chunk.writeUInt32LE(x >>> 0, i);
  }
  const fd = openSync(path, 'w+');
  try {
    for (let left = bytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    fsyncSync(fd);
    for (let off = 0; off < bytes; off += chunk.length) readSync(fd, chunk, 0, chunk.length, off);
  } finally {
    closeSync(fd);
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

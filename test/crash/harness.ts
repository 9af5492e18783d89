// Crash harness: producers with acks=-1 record every acknowledged (partition, offset, value); the
// broker process is killed with SIGKILL at random moments (mostly while it serves, sometimes
// while it is still recovering at startup); after every restart a consumer reads every partition
// back and checks that each acknowledged record is there, at its offset, once, and in the order
// it was acknowledged per producer. Recovery time is measured from process start to the ready
// line, next to the broker's own figure (its `logs loaded` log line).
//
// Used by crash.test.ts (quick mode, in `pnpm test`) and run.ts (long mode, one command).
// `verified` counts acknowledged records checked by the last verification (all of them: each
// restart re-reads everything acknowledged since the start of the run).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prng } from '../../packages/protocol/fixtures/sample-values.ts';
import { RawClient } from '../support/raw-client.ts';
import { createTopic, type ProduceOutcome, produce, readPartition } from '../support/requests.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');
const TOPIC = 'crash';

export interface CrashOptions {
  /** Kills while the broker serves producers (each one is followed by a verified restart). */
  readonly cycles: number;
  readonly appendMode: 'mmap' | 'pwrite';
  readonly flushOnAck: boolean;
  readonly seed: number;
  readonly partitions?: number;
  /** Concurrent producer connections (each pipelines `window` requests). */
  readonly producers?: number;
  readonly window?: number;
  /** How long the broker serves before the kill, drawn uniformly from this range. */
  readonly minServeMs?: number;
  readonly maxServeMs?: number;
  /** Record values are a unique tag plus up to this many padding bytes. */
  readonly maxPaddingBytes?: number;
  /** Share of cycles that also kill a restarting broker before it is ready (0..1). */
  readonly startupKillRate?: number;
  /** Called with a line per cycle. */
  readonly progress?: (line: string) => void;
}

export interface Recovery {
  /** Process start to the ready line, measured here. */
  readonly startToReadyMs: number;
  /** The broker's own figures from its `logs loaded` line. */
  readonly loadMs: number;
  readonly partitionsRecovered: number;
  readonly segmentsRecovered: number;
}

export interface CrashReport {
  readonly cycles: number;
  readonly startupKills: number;
  /** Records acknowledged over the whole run. */
  readonly acknowledged: number;
  /** Acknowledged records checked by the last verification (all of them). */
  readonly verified: number;
  /** Acknowledged records missing or changed; must be 0. */
  readonly lost: number;
  /** Records (acknowledged or not) found more than once, or acknowledged ones out of order. */
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly problems: readonly string[];
  readonly recoveries: readonly Recovery[];
  readonly maxStartToReadyMs: number;
  readonly maxBrokerLoadMs: number;
}

interface Acked {
  readonly partition: number;
  readonly offset: number;
  readonly value: string;
  /** Producer connection and its request sequence number: order within it is append order. */
  readonly producer: number;
  readonly seq: number;
}

/** One broker process on `dataDir` (also used by the transactional mode, txn-harness.ts). */
export class BrokerRun {
  readonly proc: ChildProcess;
  readonly started = performance.now();
  output = '';
  readonly exited: Promise<void>;

  constructor(dataDir: string, overrides: Record<string, string | number | boolean>) {
    const args = [SLUICE_BIN, 'start'];
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    args.push('--override', `log.dirs=${dataDir}`);
    this.proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => this.proc.once('exit', () => res()));
  }

  /** Resolves with the port once the ready line is out; rejects if the process exits first. */
  ready(timeoutMs = 60_000): Promise<number> {
    return new Promise((res, rej) => {
      const check = () => {
        const m = /sluice ready: listeners=PLAINTEXT:\/\/[^:]+:(\d+)/.exec(this.output);
        if (m === null) return false;
        cleanup();
        res(Number(m[1]));
        return true;
      };
      const onData = () => void check();
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        rej(new Error(`broker exited (${code ?? signal}) before ready:\n${this.output.slice(-4000)}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        rej(new Error(`broker not ready in ${timeoutMs} ms:\n${this.output.slice(-4000)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.proc.stdout!.off('data', onData);
        this.proc.off('exit', onExit);
      };
      this.proc.stdout!.on('data', onData);
      this.proc.once('exit', onExit);
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) onExit(this.proc.exitCode, this.proc.signalCode);
      else check();
    });
  }

  /** The broker's `logs loaded` line (JSON). Its logger writes asynchronously, so the line may
   * come after the ready line: wait a little for it. */
  async loadLine(): Promise<{ loadMs: number; partitionsRecovered: number; segmentsRecovered: number }> {
    for (let waited = 0; waited < 10_000; waited += 20) {
      for (const line of this.output.split('\n')) {
        if (line.includes('"logs loaded"')) return JSON.parse(line) as { loadMs: number; partitionsRecovered: number; segmentsRecovered: number };
      }
      await sleep(20);
    }
    throw new Error(`no "logs loaded" line in the broker output:\n${this.output.slice(-4000)}`);
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
    return this.proc.exitCode;
  }
}

/** Producers against one broker life: each pipelines `window` single-batch requests. */
class ProducerFleet {
  private stopped = false;
  /** Set just before the kill: from then on a closed connection is expected. */
  private killing = false;
  /** Connections that failed while the broker was alive (a broker bug, not a crash). */
  readonly failures: string[] = [];
  private readonly loops: Promise<void>[] = [];
  private readonly clients: RawClient[] = [];

  private readonly acked: Acked[];
  private readonly sequences: number[];
  private readonly random: () => number;
  private readonly partitions: number;
  private readonly maxPadding: number;

  constructor(acked: Acked[], sequences: number[], random: () => number, partitions: number, maxPadding: number) {
    this.acked = acked;
    this.sequences = sequences;
    this.random = random;
    this.partitions = partitions;
    this.maxPadding = maxPadding;
  }

  async start(port: number, producers: number, window: number, run: number): Promise<void> {
    for (let p = 0; p < producers; p++) {
      const client = await RawClient.connect(port);
      this.clients.push(client);
      for (let w = 0; w < window; w++) this.loops.push(this.loop(client, p, run));
    }
  }

  private async loop(client: RawClient, producer: number, run: number): Promise<void> {
    while (!this.stopped) {
      const seq = this.sequences[producer]++;
      const partition = Math.floor(this.random() * this.partitions);
      const count = 1 + Math.floor(this.random() * 20);
      const values = Array.from({ length: count }, (_, i) => `r${run}.p${producer}.s${seq}.${i}.${'x'.repeat(Math.floor(this.random() * this.maxPadding))}`);
      let outcome: ProduceOutcome;
      try {
        outcome = await produce(client, TOPIC, partition, values, -1);
      } catch (err) {
        // After the kill, whatever was in flight is simply not acknowledged.
        if (!this.killing) this.failures.push(`producer ${producer}: ${(err as Error).message} while the broker was up`);
        return;
      }
      if (outcome.errorCode !== 0) {
        this.failures.push(`producer ${producer}: Produce answered error ${outcome.errorCode} (${outcome.errorMessage})`);
        continue;
      }
      values.forEach((value, i) => this.acked.push({ partition, offset: outcome.baseOffset + i, value, producer, seq }));
    }
  }

  expectDisconnect(): void {
    this.killing = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.clients) c.close();
    await Promise.all(this.loops);
  }
}

interface Verification {
  readonly verified: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly problems: string[];
}

async function verify(port: number, partitions: number, acked: readonly Acked[]): Promise<Verification> {
  const client = await RawClient.connect(port);
  const problems: string[] = [];
  let lost = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  try {
    const logs: Array<Map<number, string | null>> = [];
    const seen = new Set<string>();
    for (let p = 0; p < partitions; p++) {
      const contents = await readPartition(client, TOPIC, p);
      if (contents.errorCode !== 0) throw new Error(`fetch ${TOPIC}-${p}: error ${contents.errorCode}`);
      const byOffset = new Map<number, string | null>();
      let expected = 0;
      for (const r of contents.records) {
        if (r.offset !== expected) problems.push(`${TOPIC}-${p}: offset ${r.offset} follows ${expected - 1}`);
        expected = r.offset + 1;
        byOffset.set(r.offset, r.value);
        if (r.value !== null) {
          if (seen.has(r.value)) {
            duplicates++;
            if (problems.length < 20) problems.push(`${TOPIC}-${p}: value ${r.value.slice(0, 40)} stored twice`);
          }
          seen.add(r.value);
        }
      }
      if (expected !== contents.highWatermark) problems.push(`${TOPIC}-${p}: records end at ${expected}, high watermark ${contents.highWatermark}`);
      logs.push(byOffset);
    }
    const lastOffset = new Map<string, number>();
    for (const a of acked) {
      const stored = logs[a.partition].get(a.offset);
      if (stored !== a.value) {
        lost++;
        if (problems.length < 20)
          problems.push(
            `acknowledged ${TOPIC}-${a.partition}@${a.offset} ${a.value.slice(0, 40)}: found ${stored === undefined ? 'nothing' : String(stored).slice(0, 40)}`,
          );
      }
      // Acknowledged in this order on one connection and partition: offsets must grow.
      const key = `${a.producer}/${a.partition}`;
      const previous = lastOffset.get(key) ?? -1;
      if (a.offset <= previous) outOfOrder++;
      lastOffset.set(key, a.offset);
    }
    return { verified: acked.length, lost, duplicates, outOfOrder, problems };
  } finally {
    client.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function runCrashCycles(options: CrashOptions): Promise<CrashReport> {
  const partitions = options.partitions ?? 3;
  const producers = options.producers ?? 3;
  const window = options.window ?? 4;
  const minServeMs = options.minServeMs ?? 100;
  const maxServeMs = options.maxServeMs ?? 600;
  const startupKillRate = options.startupKillRate ?? 0.2;
  const random = prng(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  const overrides: Record<string, string | number | boolean> = {
    listeners: 'PLAINTEXT://127.0.0.1:0',
    'sluice.log.level': 'info',
    'sluice.log.append.mode': options.appendMode,
    'sluice.log.preallocate.step.bytes': 64 * 1024,
    'sluice.flush.on.ack.enable': options.flushOnAck,
    'auto.create.topics.enable': false,
    'sluice.metrics.listener': '',
  };
  const acked: Acked[] = [];
  const sequences = Array.from({ length: producers }, () => 0);
  const recoveries: Recovery[] = [];
  const problems: string[] = [];
  let startupKills = 0;
  let last: Verification = { verified: 0, lost: 0, duplicates: 0, outOfOrder: 0, problems: [] };
  let worst = { lost: 0, duplicates: 0, outOfOrder: 0 };
  const say = options.progress ?? (() => undefined);

  try {
    for (let cycle = 0; cycle <= options.cycles; cycle++) {
      if (cycle > 0 && random() < startupKillRate) {
        // Kill a restart somewhere inside its recovery (before or around the ready line).
        const early = new BrokerRun(dataDir, overrides);
        const lastReady = recoveries.at(-1)?.startToReadyMs ?? 500;
        await sleep(random() * lastReady);
        await early.kill();
        startupKills++;
      }
      const broker = new BrokerRun(dataDir, overrides);
      const port = await broker.ready();
      const startToReadyMs = Math.round(performance.now() - broker.started);
      const load = await broker.loadLine();
      recoveries.push({ startToReadyMs, loadMs: load.loadMs, partitionsRecovered: load.partitionsRecovered, segmentsRecovered: load.segmentsRecovered });
      if (cycle === 0) {
        const admin = await RawClient.connect(port);
        const code = await createTopic(admin, TOPIC, partitions, { 'segment.bytes': String(256 * 1024) });
        admin.close();
        if (code !== 0) throw new Error(`CreateTopics answered ${code}`);
      }
      last = await verify(port, partitions, acked);
      worst = {
        lost: Math.max(worst.lost, last.lost),
        duplicates: Math.max(worst.duplicates, last.duplicates),
        outOfOrder: Math.max(worst.outOfOrder, last.outOfOrder),
      };
      for (const p of last.problems) if (problems.length < 50) problems.push(`cycle ${cycle}: ${p}`);
      say(
        `cycle ${cycle}/${options.cycles}: ready in ${startToReadyMs} ms (broker load ${load.loadMs} ms, ${load.partitionsRecovered} partitions / ${load.segmentsRecovered} segments recovered); ` +
          `${last.verified} acknowledged records verified, lost ${last.lost}, duplicates ${last.duplicates}, out of order ${last.outOfOrder}`,
      );
      if (cycle === options.cycles) {
        if ((await broker.stop()) !== 0) problems.push(`the final graceful stop failed:\n${broker.output.slice(-2000)}`);
        break;
      }
      const fleet = new ProducerFleet(acked, sequences, random, partitions, options.maxPaddingBytes ?? 200);
      await fleet.start(port, producers, window, cycle);
      await sleep(minServeMs + random() * (maxServeMs - minServeMs));
      fleet.expectDisconnect();
      await broker.kill();
      await fleet.stop();
      for (const f of fleet.failures.slice(0, 5)) if (problems.length < 50) problems.push(`cycle ${cycle}: ${f}`);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    cycles: options.cycles,
    startupKills,
    acknowledged: acked.length,
    verified: last.verified,
    lost: worst.lost,
    duplicates: worst.duplicates,
    outOfOrder: worst.outOfOrder,
    problems,
    recoveries,
    maxStartToReadyMs: Math.max(...recoveries.map((r) => r.startToReadyMs)),
    maxBrokerLoadMs: Math.max(...recoveries.map((r) => r.loadMs)),
  };
}

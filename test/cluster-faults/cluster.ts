// etcd and the brokers of a fault run, each started inside its own network namespace with
// `ip netns exec` (which execs the command, so the child's pid is the process itself and signals
// reach it directly). Process faults live here: kill -9, SIGSTOP/SIGCONT, restart on the same or
// a wiped data dir.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Topology } from './netns.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');
export const BROKER_PORT = 9092;
export const ETCD_PORT = 2379;
/** broker.session.timeout.ms: the lease TTL a pause must outlast. */
export const SESSION_TIMEOUT_MS = 3000;

interface Running {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  output: string;
}

function launch(ns: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const proc = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const running: Running = { proc, exited: new Promise((r) => proc.once('exit', () => r())), output: '' };
  const keep = (d: Buffer) => {
    running.output += d.toString();
    // Only the tail matters for a report; a long run must not grow without bound.
    if (running.output.length > 200_000) running.output = running.output.slice(-100_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return running;
}

async function waitFor(running: Running, pattern: RegExp, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(running.output)) {
    if (running.proc.exitCode !== null || running.proc.signalCode !== null) {
      throw new Error(`${what} exited (${running.proc.exitCode ?? running.proc.signalCode}) before ready:\n${running.output.slice(-4000)}`);
    }
    if (Date.now() > deadline) throw new Error(`${what} not ready in ${ms} ms:\n${running.output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type BrokerState = 'up' | 'down' | 'paused';

export interface ClusterOptions {
  /** Each broker's log dir on its own small tmpfs (the disk-full fault fills it). */
  readonly tmpfsDisks: boolean;
  /** Each broker under libfaketime with a wall-clock offset file (the clock-jump fault writes it). */
  readonly fakeClock: boolean;
}

/** A tmpfs per broker: room for a long run's records, small enough to fill in a moment. */
const DISK_BYTES = 512 << 20;

/** libfaketime's multi-threaded preload library (Debian's `libfaketime`), or null. */
export function libfaketime(): string | null {
  for (const dir of ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime']) {
    if (existsSync(join(dir, 'libfaketimeMT.so.1'))) return join(dir, 'libfaketimeMT.so.1');
  }
  return null;
}

export interface Broker {
  readonly nodeId: number;
  /** The node's short name in the topology (`b1`…). */
  readonly name: string;
  readonly address: string;
  /** Holds the log dir (a tmpfs mount point with `tmpfsDisks`) and the disk-full filler. */
  readonly diskDir: string;
  readonly dataDir: string;
  /** libfaketime's offset file (`fakeClock`). */
  readonly clockFile: string;
  state: BrokerState;
  running: Running | null;
}

export class FaultCluster {
  /** The cluster's members (node ids 1..n), started by `start`. */
  readonly brokers: Broker[];
  /** Brokers that join only for a membership change (node ids after the members'), down until then. */
  readonly spares: Broker[];
  private etcd: Running | null = null;
  private readonly topology: Topology;
  private readonly workDir: string;

  private readonly options: ClusterOptions;

  constructor(topology: Topology, workDir: string, brokerCount: number, options: ClusterOptions, spareCount = 0) {
    this.topology = topology;
    this.workDir = workDir;
    this.options = options;
    const all = Array.from({ length: brokerCount + spareCount }, (_, i) => {
      const name = `b${i + 1}`;
      const diskDir = join(workDir, `${name}-disk`);
      return {
        nodeId: i + 1,
        name,
        address: topology.address(name),
        diskDir,
        dataDir: join(diskDir, 'log'),
        clockFile: join(workDir, `${name}.faketime`),
        state: 'down' as BrokerState,
        running: null,
      };
    });
    this.brokers = all.slice(0, brokerCount);
    this.spares = all.slice(brokerCount);
  }

  get etcdEndpoint(): string {
    return `http://${this.topology.address('etcd')}:${ETCD_PORT}`;
  }

  get bootstrap(): string[] {
    return this.brokers.map((b) => `${b.address}:${BROKER_PORT}`);
  }

  broker(nodeId: number): Broker {
    const b = [...this.brokers, ...this.spares].find((x) => x.nodeId === nodeId);
    if (b === undefined) throw new Error(`no broker ${nodeId}`);
    return b;
  }

  async start(): Promise<void> {
    const address = this.topology.address('etcd');
    const client = `http://${address}:${ETCD_PORT}`;
    const peer = 'http://127.0.0.1:2380';
    this.etcd = launch(this.topology.ns('etcd'), 'etcd', [
      '--name',
      'faults',
      '--data-dir',
      join(this.workDir, 'etcd'),
      '--listen-client-urls',
      client,
      '--advertise-client-urls',
      client,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `faults=${peer}`,
      '--initial-cluster-state',
      'new',
    ]);
    await waitFor(this.etcd, /ready to serve client requests/, 'etcd', 30_000);
    for (const b of [...this.brokers, ...this.spares]) {
      mkdirSync(b.diskDir, { recursive: true });
      if (this.options.tmpfsDisks) execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_BYTES}`, 'tmpfs', b.diskDir]);
      if (this.options.fakeClock) writeFileSync(b.clockFile, '+0\n');
    }
    for (const b of this.brokers) await this.startBroker(b.nodeId);
  }

  async startBroker(nodeId: number): Promise<void> {
    const b = this.broker(nodeId);
    const env: NodeJS.ProcessEnv = {};
    if (this.options.fakeClock) {
      const lib = libfaketime();
      if (lib === null) throw new Error('libfaketime is not installed (apt-get install libfaketime)');
      // The wall clock only (NTP-like steps); monotonic time, which timers use, is left alone.
      Object.assign(env, { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: b.clockFile, FAKETIME_CACHE_DURATION: '1', DONT_FAKE_MONOTONIC: '1' });
    }
    mkdirSync(b.dataDir, { recursive: true });
    const overrides: Record<string, string | number> = {
      listeners: `PLAINTEXT://${b.address}:${BROKER_PORT}`,
      'log.dirs': b.dataDir,
      'node.id': nodeId,
      'sluice.metadata.etcd.endpoints': this.etcdEndpoint,
      'sluice.metadata.etcd.prefix': '/faults',
      'broker.session.timeout.ms': SESSION_TIMEOUT_MS,
      'replica.lag.time.max.ms': 5000,
      'sluice.log.level': process.env.SLUICE_FAULTS_LOG_LEVEL ?? 'warn',
      'sluice.metrics.listener': '',
      'group.initial.rebalance.delay.ms': 0,
      // Few group coordinator partitions: a membership change moves them too, quickly.
      'offsets.topic.num.partitions': 3,
    };
    const args = [SLUICE_BIN, 'start'];
    for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
    // A restart right after a kill finds the old registration under its lease until the TTL
    // runs out (same directory id: revoked; a wiped dir has a new one: refused until expiry).
    const deadline = Date.now() + 4 * SESSION_TIMEOUT_MS + 20_000;
    for (;;) {
      const running = launch(this.topology.ns(b.name), process.execPath, args, env);
      try {
        await waitFor(running, /sluice ready: /, `broker ${nodeId}`, 40_000);
        b.running = running;
        b.state = 'up';
        return;
      } catch (err) {
        running.proc.kill('SIGKILL');
        await running.exited;
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async kill(nodeId: number): Promise<void> {
    const b = this.broker(nodeId);
    if (b.running === null) return;
    if (b.state === 'paused') b.running.proc.kill('SIGCONT');
    b.running.proc.kill('SIGKILL');
    await b.running.exited;
    b.running = null;
    b.state = 'down';
  }

  /** SIGTERM (a decommissioned broker shuts down cleanly), SIGKILL after 20 s. */
  async stopGracefully(nodeId: number): Promise<void> {
    const b = this.broker(nodeId);
    if (b.running === null) return;
    if (b.state === 'paused') b.running.proc.kill('SIGCONT');
    b.running.proc.kill('SIGTERM');
    const timer = setTimeout(() => b.running?.proc.kill('SIGKILL'), 20_000);
    await b.running.exited;
    clearTimeout(timer);
    b.running = null;
    b.state = 'down';
  }

  pause(nodeId: number): void {
    const b = this.broker(nodeId);
    if (b.running === null || b.state !== 'up') return;
    b.running.proc.kill('SIGSTOP');
    b.state = 'paused';
  }

  resume(nodeId: number): void {
    const b = this.broker(nodeId);
    if (b.running === null || b.state !== 'paused') return;
    b.running.proc.kill('SIGCONT');
    b.state = 'up';
  }

  /** Deletes a stopped broker's log dir: the broker lost its disk. */
  wipe(nodeId: number): void {
    const b = this.broker(nodeId);
    if (b.running !== null) throw new Error(`broker ${nodeId} is running`);
    rmSync(b.dataDir, { recursive: true, force: true });
  }

  /** Fills the broker's tmpfs with a filler file: every write there fails with ENOSPC. */
  fillDisk(nodeId: number): void {
    if (!this.options.tmpfsDisks) throw new Error('disk-full needs tmpfsDisks');
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(this.broker(nodeId).diskDir, 'filler')}`, 'bs=1M'], { stdio: 'ignore' });
    } catch {
      // dd stops with ENOSPC: that is the point
    }
  }

  freeDisk(nodeId: number): void {
    rmSync(join(this.broker(nodeId).diskDir, 'filler'), { force: true });
  }

  /**
   * Starts the latency proxy (latency-proxy.ts) in the broker's namespace as user nobody, with a
   * route per destination; resolves once it listens. Returns a function that stops it.
   */
  async startLatencyProxy(
    nodeId: number,
    delayMs: number,
    routes: ReadonlyArray<{ toPort: number; address: string; port: number }>,
  ): Promise<() => Promise<void>> {
    const b = this.broker(nodeId);
    const proxy = join(ROOT, 'test', 'cluster-faults', 'latency-proxy.ts');
    const args = ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, proxy, '--delay-ms', String(delayMs)];
    for (const r of routes) args.push(`${r.toPort}=${r.address}:${r.port}`);
    const running = launch(this.topology.ns(b.name), 'setpriv', args);
    await waitFor(running, /latency proxy ready/, `latency proxy of broker ${nodeId}`, 20_000);
    return async () => {
      running.proc.kill('SIGKILL');
      await running.exited;
    };
  }

  /** Steps the broker's wall clock to `offset` (libfaketime syntax: `+10m`, `-600`, `+0`). */
  setClock(nodeId: number, offset: string): void {
    if (!this.options.fakeClock) throw new Error('clock-jump needs fakeClock');
    writeFileSync(this.broker(nodeId).clockFile, `${offset}\n`);
  }

  /** Brokers that exited by themselves (not by a fault), with their last output. */
  crashed(): Array<{ nodeId: number; exit: string; output: string }> {
    return [...this.brokers, ...this.spares]
      .filter((b) => b.running !== null && (b.running.proc.exitCode !== null || b.running.proc.signalCode !== null))
      .map((b) => ({ nodeId: b.nodeId, exit: String(b.running!.proc.exitCode ?? b.running!.proc.signalCode), output: b.running!.output.slice(-4000) }));
  }

  output(nodeId: number): string {
    return this.broker(nodeId).running?.output ?? '';
  }

  async stop(): Promise<void> {
    for (const b of [...this.brokers, ...this.spares]) await this.kill(b.nodeId);
    if (this.etcd !== null) {
      this.etcd.proc.kill('SIGKILL');
      await this.etcd.exited;
      this.etcd = null;
    }
    if (this.options.tmpfsDisks) for (const b of [...this.brokers, ...this.spares]) unmountUnder(b.diskDir);
  }
}

/** Unmounts every mount at or below `dir` (lazily: nothing of ours may still use it). */
function unmountUnder(dir: string): void {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const target = line.split(' ')[1];
    if (target !== undefined && (target === dir || target.startsWith(`${dir}/`))) {
      try {
        execFileSync('umount', ['-l', target]);
      } catch {
        // gone already
      }
    }
  }
}

// Starts a real broker process (`sluice start`) on a free port with a temp data dir, for
// cross-package tests. Every test file stops what it started; the data dir is removed unless
// the caller keeps it (restart tests reuse one dir across two processes).

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');

export interface BrokerProcess {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly bootstrap: string;
  readonly dataDir: string;
  /** The Prometheus endpoint from the ready line (null when `sluice.metrics.listener` is empty). */
  readonly metricsUrl: string | null;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export interface StartOptions {
  dataDir?: string;
  overrides?: Record<string, string | number | boolean>;
  /** Fixed port (restart tests); 0 picks a free one. */
  port?: number;
  /** The Node.js binary to run the broker on (default: the one running the tests). */
  nodeBinary?: string;
  /** A server.properties file (`sluice start --config`); `overrides` win over it. */
  configFile?: string;
  /** A command the broker runs under (e.g. `['strace', '-f', …]`) that starts the broker as its
   * child and exits with it: `stop()` sends SIGTERM to that child (strace does not pass signals
   * on), so the broker still stops gracefully. */
  wrapper?: string[];
}

export function tempDataDir(prefix = 'sluice-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function startBroker(options: StartOptions = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? tempDataDir();
  const overrides: Record<string, string | number | boolean> = {
    listeners: `PLAINTEXT://127.0.0.1:${options.port ?? 0}`,
    'log.dirs': dataDir,
    'sluice.log.level': 'warn',
    'group.initial.rebalance.delay.ms': 0,
    // A free port: brokers of parallel test files must not fight over the default 9404.
    'sluice.metrics.listener': 'http://127.0.0.1:0/metrics',
    ...options.overrides,
  };
  const args = [SLUICE_BIN, 'start', ...(options.configFile === undefined ? [] : ['--config', options.configFile])];
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const command = [...(options.wrapper ?? []), options.nodeBinary ?? process.execPath, ...args];
  const proc = spawn(command[0]!, command.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  let metricsUrl: string | null = null;
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL'); // a broker that never got ready must not outlive the test
      rej(new Error(`broker did not become ready in 30 s:\n${output}`));
    }, 30_000);
    const onData = () => {
      // The whole line (up to its newline), so a chunk boundary cannot cut the metrics URL off.
      const line = /sluice ready: ([^\n]*)\n/.exec(output)?.[1];
      const m = line === undefined ? null : /^listeners=PLAINTEXT:\/\/[^:]+:(\d+)/.exec(line);
      if (m !== null) {
        metricsUrl = / metrics=(\S+)/.exec(line!)?.[1] ?? null;
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        res(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`broker exited with ${code} before ready:\n${output}`));
    });
  });
  return {
    proc,
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    metricsUrl,
    output: () => output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        if (options.wrapper === undefined) proc.kill('SIGTERM');
        else for (const child of childPids(proc.pid!)) process.kill(child, 'SIGTERM');
      }
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** The child processes of `pid` (Linux: /proc/PID/task/PID/children). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // already gone
  }
}

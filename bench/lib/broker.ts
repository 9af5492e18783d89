// A broker under test: a Sluice or Apache Kafka process started by the benchmark, with the pid
// of the process that does the work (node or java, spawned directly — no shell, no wrapper
// script), its bootstrap address and how long it took from spawn to answering Metadata.

import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { runLoadgen } from './loadgen.ts';

export interface BrokerProcess {
  readonly kind: 'sluice' | 'kafka';
  /** e.g. "sluice sendfile/mmap" or "kafka 4.4.0". */
  readonly label: string;
  readonly pid: number;
  readonly bootstrap: string;
  /** Spawn to first successful ApiVersions + Metadata, in ms. */
  readonly readyMs: number;
  readonly dataDir: string;
  output(): string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the broker binds it next; a clash fails loudly). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Collects a child's output (bounded: the last 64 KiB) for error messages. */
export function captureOutput(child: ChildProcess): () => string {
  let out = '';
  const add = (d: Buffer) => {
    out += d.toString();
    if (out.length > 65536) out = out.slice(-65536);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

/** Waits until the broker at `bootstrap` answers, measuring from `spawnedAt` (performance.now()).
 * Fails early if the process exits first. */
export async function waitReady(child: ChildProcess, bootstrap: string, spawnedAt: number, output: () => string, timeoutS = 120): Promise<number> {
  let onExit: (code: number | null, signal: NodeJS.Signals | null) => void = () => {};
  const exited = new Promise<never>((_, reject) => {
    onExit = (code, signal) => reject(new Error(`broker exited (${code ?? signal}) before it was ready:\n${output()}`));
    child.once('exit', onExit);
  });
  exited.catch(() => {}); // observed through the race below; later exits are not errors
  try {
    await Promise.race([runLoadgen(['ping', '--bootstrap', bootstrap, '--timeout-s', String(timeoutS)], {}, (timeoutS + 10) * 1000), exited]);
    return performance.now() - spawnedAt;
  } finally {
    child.off('exit', onExit);
  }
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

// Starts a real etcd server (Debian's `etcd-server` package: the `etcd` binary, v3 API) for a
// test: free client and peer ports on loopback, a temp data dir removed at stop. .ci/run installs
// the package when the binary is missing.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  /** The client URL, e.g. http://127.0.0.1:40123. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** The running process (a new one after restart()). */
  readonly proc: ChildProcess;
  output(): string;
  /** SIGKILL and start again on the same ports and data (an etcd crash and recovery). */
  restart(): Promise<void>;
  /** SIGTERM, wait for exit, remove the data dir. */
  stop(): Promise<void>;
}

/** A port nobody listens on right now (bound to 0 and released). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startEtcd(): Promise<EtcdServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-etcd-'));
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name',
    'test',
    '--data-dir',
    join(dataDir, 'data'),
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `test=${peer}`,
    '--initial-cluster-state',
    'new',
    '--log-level',
    'warn',
  ];
  let output = '';
  const launch = async (): Promise<{ proc: ChildProcess; exited: Promise<void> }> => {
    const proc = spawn('etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    const spawnError = new Promise<never>((_, reject) =>
      proc.once('error', (err) => reject(new Error(`cannot run etcd (apt-get install etcd-server): ${err.message}`))),
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`etcd exited with ${proc.exitCode}:\n${output}`);
      const healthy = await Promise.race([
        fetch(`${client}/health`).then(
          (r) => r.ok,
          () => false,
        ),
        spawnError,
      ]);
      if (healthy) return { proc, exited };
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`etcd did not become healthy in 20 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  let current = await launch();
  return {
    endpoint: client,
    dataDir,
    get proc() {
      return current.proc;
    },
    output: () => output,
    async restart() {
      current.proc.kill('SIGKILL');
      await current.exited;
      current = await launch();
    },
    async stop() {
      const { proc, exited } = current;
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

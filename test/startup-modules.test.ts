// What `sluice start` loads in its default configuration: the code of features that are not
// configured stays on disk (issue 21, start time and memory; bench/README.md, "Where start time
// and memory go"). A broker is started with a module-load recorder and stopped once ready; the
// list of every module it loaded is checked for the files only those features need.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, tempDataDir } from './support/broker-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');
const RECORDER = join(ROOT, 'test', 'support', 'record-module-loads.ts');

/** Starts `sluice start` with the recorder, waits for the ready line, stops it (SIGTERM): the
 * repository-relative paths of every module it loaded. */
async function modulesLoadedByStart(dataDir: string, overrides: Record<string, string>): Promise<string[]> {
  const log = join(dataDir, 'modules.txt');
  const args = ['--import', RECORDER, SLUICE_BIN, 'start'];
  for (const [k, v] of Object.entries({ 'log.dirs': join(dataDir, 'data'), ...overrides })) args.push('--override', `${k}=${v}`);
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, SLUICE_MODULE_LOG: log }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`broker not ready in 30 s:\n${output}`)), 30_000);
    proc.stdout.on('data', () => {
      if (output.includes('sluice ready:')) {
        clearTimeout(timer);
        res();
      }
    });
    void exited.then((code) => rej(new Error(`broker exited (${code}) before ready:\n${output}`)));
  });
  proc.kill('SIGTERM');
  expect(await exited).toBe(0);
  const prefix = `file://${ROOT}/`;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((u) => u.startsWith(prefix))
    .map((u) => u.slice(prefix.length));
}

describe('sluice start in the default configuration', () => {
  const dir = tempDataDir('sluice-startup-modules-');
  afterAll(() => removeDir(dir));

  it('loads the broker, but not cluster mode, SASL, TLS listeners, the client or the client commands', async () => {
    const loaded = await modulesLoadedByStart(dir, {
      listeners: 'PLAINTEXT://127.0.0.1:0',
      'sluice.metrics.listener': 'http://127.0.0.1:0/metrics',
      'sluice.log.level': 'warn',
    });
    // The recorder saw the broker start (else the checks below would pass on an empty list).
    expect(loaded).toContain('packages/broker/src/broker.ts');
    expect(loaded).toContain('packages/cli/src/commands/start.ts');
    expect(loaded).toContain('packages/broker/src/metrics/metrics-server.ts');
    const unexpected = loaded.filter(
      (path) =>
        // Cluster mode: the etcd client, membership, the replica fetcher (and the Kafka client it uses).
        path === 'packages/broker/src/cluster/cluster-node.ts' ||
        path.startsWith('packages/broker/src/cluster/etcd/') ||
        path === 'packages/broker/src/cluster/replica-fetcher.ts' ||
        path.startsWith('packages/client/') ||
        // SASL listeners' mechanisms and the OAUTHBEARER token validator.
        path === 'packages/broker/src/security/listener-auth.ts' ||
        path === 'packages/broker/src/security/sasl/sasl-authenticator.ts' ||
        path === 'packages/broker/src/security/sasl/jwt.ts' ||
        // TLS listeners' settings (certificate files, reloads).
        path === 'packages/broker/src/tls-listener.ts' ||
        // The client commands (topics, produce, consume, …).
        (path.startsWith('packages/cli/src/') && !['packages/cli/src/main.ts', 'packages/cli/src/commands/start.ts'].includes(path)),
    );
    expect(unexpected).toEqual([]);
  });
});

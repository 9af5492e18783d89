// Starts Sluice brokers for the benchmark: `node packages/cli/bin/sluice.js start` spawned with
// this Node binary directly, so the child pid is the broker's own node process.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type BrokerProcess, captureOutput, freePort, stopChild, waitReady } from './broker.ts';
import { ROOT } from './loadgen.ts';

export const TRANSFER_MODES = ['sendfile', 'splice', 'copy'] as const;
export const APPEND_MODES = ['mmap', 'pwrite'] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];
export type AppendMode = (typeof APPEND_MODES)[number];
/** `sluice.log.append.mode`'s default, the mode every cell that is not about append modes runs. */
export const DEFAULT_APPEND_MODE: AppendMode = 'pwrite';

const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');

export interface SluiceOptions {
  dataDir: string;
  transferMode: TransferMode;
  appendMode: AppendMode;
  /** More settings; `listeners` here adds listeners (e.g. SSL) next to the PLAINTEXT one the
   * benchmark bootstraps from. */
  overrides?: Record<string, string>;
}

export async function startSluice(opts: SluiceOptions): Promise<BrokerProcess> {
  const port = await freePort();
  const { listeners: moreListeners, ...more } = opts.overrides ?? {};
  const overrides: Record<string, string> = {
    'log.dirs': opts.dataDir,
    listeners: [`PLAINTEXT://127.0.0.1:${port}`, ...(moreListeners === undefined ? [] : [moreListeners])].join(','),
    'sluice.transfer.mode': opts.transferMode,
    'sluice.log.append.mode': opts.appendMode,
    'sluice.log.level': 'warn',
    // The metrics endpoint is on, as by default (issue 21: the benchmark measures the default
    // configuration), on a free port (port 0) since brokers start one after another here.
    'sluice.metrics.listener': 'http://127.0.0.1:0/metrics',
    ...more,
  };
  const args = [SLUICE_BIN, 'start'];
  for (const [k, v] of Object.entries(overrides)) args.push('--override', `${k}=${v}`);
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const bootstrap = `127.0.0.1:${port}`;
  let readyMs: number;
  try {
    readyMs = await waitReady(child, bootstrap, spawnedAt, output);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  if (child.pid === undefined) throw new Error('sluice process has no pid');
  return {
    kind: 'sluice',
    label: `sluice ${opts.transferMode}/${opts.appendMode}${
      opts.overrides === undefined
        ? ''
        : ` ${Object.entries(opts.overrides)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`
    }`,
    pid: child.pid,
    bootstrap,
    readyMs,
    dataDir: opts.dataDir,
    output,
    stop: () => stopChild(child),
  };
}

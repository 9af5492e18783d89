// `pnpm test`: every suite in one command — cargo (Rust storage core), vitest unit tests
// (packages/*), vitest end-to-end tests (test/: real clients against real broker processes).
// Streams each suite's output and ends with one line `N passed, N failed` over all of them.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

interface SuiteResult {
  name: string;
  passed: number;
  failed: number;
  exitCode: number | null;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      process.stdout.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      process.stderr.write(d);
    });
    child.on('close', (code) => done({ code, output }));
    child.on('error', (err) => done({ code: 127, output: String(err) }));
  });
}

async function cargoSuite(): Promise<SuiteResult> {
  const { code, output } = await run('cargo', ['test', '--workspace', '--release', '--color', 'never']);
  let passed = 0;
  let failed = 0;
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { name: 'cargo', passed, failed, exitCode: code };
}

async function vitestSuite(name: string, paths: string[], extraArgs: string[] = []): Promise<SuiteResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-vitest-'));
  const report = join(dir, 'report.json');
  try {
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const { code } = await run(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...extraArgs, ...paths]);
    let passed = 0;
    let failed = 0;
    try {
      const json = JSON.parse(readFileSync(report, 'utf8')) as { numPassedTests: number; numFailedTests: number; numFailedTestSuites: number };
      passed = json.numPassedTests;
      // A file that failed without a failing test (an error while loading it) still counts.
      failed = json.numFailedTests > 0 ? json.numFailedTests : json.numFailedTestSuites;
    } catch {
      failed = 1; // the runner itself failed before reporting
    }
    return { name, passed, failed, exitCode: code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: SuiteResult[] = [];
results.push(await cargoSuite());
results.push(await vitestSuite('vitest (packages)', ['packages/']));
results.push(await vitestSuite('vitest (bench tooling)', [], ['--config', 'bench/vitest.config.ts']));
results.push(await vitestSuite('vitest (end-to-end)', ['test/']));

let passed = 0;
let failed = 0;
process.stdout.write('\n== Summary ==\n');
for (const r of results) {
  // A suite that exited non-zero without counting a failure still failed (build error, crash).
  const extra = r.exitCode !== 0 && r.failed === 0 ? 1 : 0;
  passed += r.passed;
  failed += r.failed + extra;
  process.stdout.write(`${r.name}: ${r.passed} passed, ${r.failed + extra} failed (exit ${r.exitCode})\n`);
}
process.stdout.write(`${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;

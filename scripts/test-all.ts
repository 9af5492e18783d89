// `pnpm test`: every suite in one command — the gates (types, format, lints, repository checks),
// cargo (Rust storage core), vitest unit tests (packages/*), vitest end-to-end tests (test/: real
// clients against real broker processes). Streams each suite's output, then a summary with each
// suite's counts and wall time, and ends with one line `N passed, N failed, N skipped`.
//
// SLUICE_TEST_ONLY=<ids> runs a subset: a comma-separated list of suite ids or groups, e.g.
// `SLUICE_TEST_ONLY=gates pnpm test` or `SLUICE_TEST_ONLY=tsc,clippy pnpm test` (ids below;
// `SLUICE_TEST_ONLY=list` prints them).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  exitCode: number | null;
}

interface Suite {
  id: string;
  /** Groups SLUICE_TEST_ONLY can name instead of the id. */
  group: 'gates' | 'tests';
  name: string;
  run: () => Promise<Counts>;
}

interface SuiteResult extends Counts {
  name: string;
  ms: number;
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

/** A gate is one check: 1 passed when the command exits 0, else 1 failed. */
async function gate(cmd: string, args: string[]): Promise<Counts> {
  const { code } = await run(cmd, args);
  return { passed: code === 0 ? 1 : 0, failed: code === 0 ? 0 : 1, skipped: 0, exitCode: code };
}

// Clippy checks in the release profile that `cargo test --release` (and the addon's
// `napi build --release` at install) already built, so their build scripts and proc macros are
// reused instead of built again for the dev profile; only the crates' check metadata is new.
// Measured on the 2-core machine under load: 28 s after the release build, 93 s in the dev profile.
async function cargoSuite(): Promise<Counts> {
  // --no-fail-fast: one failing test binary does not hide the results of the others.
  const { code, output } = await run('cargo', ['test', '--workspace', '--release', '--no-fail-fast', '--color', 'never']);
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
    skipped += Number(m[3]);
  }
  return { passed, failed, skipped, exitCode: code };
}

async function vitestSuite(paths: string[], extraArgs: string[] = []): Promise<Counts> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-vitest-'));
  const report = join(dir, 'report.json');
  try {
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const { code } = await run(process.execPath, [
      vitest,
      'run',
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${report}`,
      ...extraArgs,
      ...paths,
    ]);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    try {
      const json = JSON.parse(readFileSync(report, 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
        numFailedTestSuites: number;
        numPendingTests: number;
        numTodoTests: number;
      };
      passed = json.numPassedTests;
      // A file that failed without a failing test (an error while loading it) still counts.
      failed = json.numFailedTests > 0 ? json.numFailedTests : json.numFailedTestSuites;
      // Pending covers it.skip and skipIf; todo is it.todo.
      skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
    } catch {
      failed = 1; // the runner itself failed before reporting
    }
    return { passed, failed, skipped, exitCode: code };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

// Cheap gates first, so their verdict is on screen within a minute; clippy right after the cargo
// tests, whose release build it reuses.
const SUITES: Suite[] = [
  {
    id: 'tsc',
    group: 'gates',
    name: 'tsc --noEmit',
    run: () => gate(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--noEmit']),
  },
  // --error-on-warnings: a rule that is on is enforced; the rule set and its reasons are in biome.jsonc.
  { id: 'biome', group: 'gates', name: 'biome ci', run: () => gate(bin('biome'), ['ci', '--colors=off', '--error-on-warnings', '.']) },
  { id: 'fmt', group: 'gates', name: 'cargo fmt --check', run: () => gate('cargo', ['fmt', '--all', '--check']) },
  { id: 'repo', group: 'gates', name: 'vitest (repository checks)', run: () => vitestSuite(['scripts/']) },
  { id: 'cargo', group: 'tests', name: 'cargo test', run: cargoSuite },
  {
    id: 'clippy',
    group: 'gates',
    name: 'cargo clippy',
    run: () => gate('cargo', ['clippy', '--workspace', '--all-targets', '--release', '--color', 'never', '--', '-D', 'warnings']),
  },
  { id: 'packages', group: 'tests', name: 'vitest (packages)', run: () => vitestSuite(['packages/']) },
  { id: 'bench', group: 'tests', name: 'vitest (bench tooling)', run: () => vitestSuite([], ['--config', 'bench/vitest.config.ts']) },
  { id: 'e2e', group: 'tests', name: 'vitest (end-to-end)', run: () => vitestSuite(['test/']) },
];

function selected(): Suite[] {
  const only = process.env.SLUICE_TEST_ONLY?.trim();
  if (!only) return SUITES;
  const wanted = new Set(only.split(',').map((s) => s.trim()));
  const known = new Set(SUITES.flatMap((s) => [s.id, s.group]));
  const unknown = [...wanted].filter((w) => w !== 'list' && !known.has(w));
  if (wanted.has('list') || unknown.length > 0) {
    if (unknown.length > 0) process.stderr.write(`SLUICE_TEST_ONLY: unknown suite ${unknown.join(', ')}\n`);
    process.stderr.write(`suites: ${SUITES.map((s) => `${s.id} (${s.group}: ${s.name})`).join(', ')}\n`);
    process.exit(unknown.length > 0 ? 2 : 0);
  }
  return SUITES.filter((s) => wanted.has(s.id) || wanted.has(s.group));
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const results: SuiteResult[] = [];
const started = performance.now();
for (const suite of selected()) {
  process.stdout.write(`\n== ${suite.name} ==\n`);
  const t0 = performance.now();
  const counts = await suite.run();
  results.push({ name: suite.name, ...counts, ms: performance.now() - t0 });
}

let passed = 0;
let failed = 0;
let skipped = 0;
process.stdout.write('\n== Summary ==\n');
for (const r of results) {
  // A suite that exited non-zero without counting a failure still failed (build error, crash).
  const extra = r.exitCode !== 0 && r.failed === 0 ? 1 : 0;
  passed += r.passed;
  failed += r.failed + extra;
  skipped += r.skipped;
  process.stdout.write(`${r.name}: ${r.passed} passed, ${r.failed + extra} failed, ${r.skipped} skipped (exit ${r.exitCode}) in ${seconds(r.ms)}\n`);
}
process.stdout.write(`total wall time ${seconds(performance.now() - started)}\n`);
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exitCode = failed === 0 ? 0 : 1;

// `pnpm bench` — copy vs zero-copy, mmap vs pwrite, and Sluice against the machine's limits (and,
// with --vs-kafka, against Apache Kafka), measured side by side in one run.
//
//   pnpm bench               full profile (the committed reference results come from this)
//   pnpm bench --quick       a few minutes: every table, short windows, one repetition (a smoke run)
//   pnpm bench --vs-kafka    adds Apache Kafka (jars fetched with Maven, cached outside git)
//   --only fetch,produce,e2e,startup,sessions,tls,txn   a subset (e2e needs produce; tls and txn run only when named)
//   --no-syscalls            do not attach perf to count the broker's syscalls
//   --out DIR                where results go (default bench/results)
//   --allow-dirty            let a full run start from a tree with uncommitted changes (its
//                            results are then named …-DIRTY and say so); refused otherwise
//
// Prints progress, then the tables; writes bench/results/<run>.json (every figure and the
// machine description) and one SVG chart per scenario next to it.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ensureKafkaJars, javaVersion, kafkaVersion, startKafka } from './kafka/kafka.ts';
import type { Context, KafkaSide } from './lib/context.ts';
import { ROOT, buildLoadgen } from './lib/loadgen.ts';
import { estimateRun } from './lib/estimate.ts';
import { describeMachine, dirtyOverRun, gitState } from './lib/machine.ts';
import { FULL, type Profile, QUICK } from './lib/profile.ts';
import { e2eChart, fanoutChart, fetchChart, produceChart, startupChart } from './lib/report/charts.ts';
import { type Chart, renderChart } from './lib/report/svg.ts';
import { tablesFor } from './lib/report/readme.ts';
import { summarize } from './lib/report/summary.ts';
import { renderTable } from './lib/report/table.ts';
import { Lookup, targetChecks } from './lib/report/tables.ts';
import { coldReaderTargets, runColdReader } from './lib/scenarios/cold-reader.ts';
import { WRITER_COMPARISONS, runFetch } from './lib/scenarios/fetch.ts';
import { runE2E, runProduce } from './lib/scenarios/produce.ts';
import { runSessions } from './lib/scenarios/sessions.ts';
import { runTls } from './lib/scenarios/tls.ts';
import { runTxn } from './lib/scenarios/txn.ts';
import { type StartupSample, runStartup } from './lib/scenarios/startup.ts';
import { syscallEvents } from './lib/syscalls.ts';

const SCENARIOS = ['startup', 'fetch', 'produce', 'e2e', 'sessions', 'tls', 'txn', 'cold'] as const;
/** What runs without --only: the TLS and transaction scenarios are named explicitly. */
const DEFAULT_SCENARIOS: readonly ScenarioName[] = ['startup', 'fetch', 'produce', 'e2e', 'sessions', 'cold'];
type ScenarioName = (typeof SCENARIOS)[number];

export interface Options {
  profile: Profile;
  vsKafka: boolean;
  only: ScenarioName[];
  syscalls: boolean;
  outDir: string;
  allowDirty: boolean;
}

export function parseOptions(argv: string[]): Options {
  const o: Options = { profile: FULL, vsKafka: false, only: [...DEFAULT_SCENARIOS], syscalls: true, outDir: join(ROOT, 'bench', 'results'), allowDirty: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--')
      continue; // pnpm passes it through on some versions
    else if (a === '--quick') o.profile = QUICK;
    else if (a === '--full') o.profile = FULL;
    else if (a === '--vs-kafka') o.vsKafka = true;
    else if (a === '--no-syscalls') o.syscalls = false;
    else if (a === '--allow-dirty') o.allowDirty = true;
    else if (a === '--only' || a === '--out') {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      if (a === '--out') o.outDir = resolve(v);
      else {
        const names = v.split(',').filter((s) => s !== '');
        for (const n of names) if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`--only: unknown scenario ${n} (${SCENARIOS.join(', ')})`);
        o.only = names as ScenarioName[];
      }
    } else if (a === '--help' || a === '-h') {
      throw new Error(
        'usage: pnpm bench [--quick] [--vs-kafka] [--only fetch,produce,e2e,startup,sessions,tls,txn,cold] [--no-syscalls] [--out DIR] [--allow-dirty]',
      );
    } else throw new Error(`unknown option ${a}; try --help`);
  }
  if (o.only.includes('e2e') && !o.only.includes('produce')) throw new Error('--only e2e needs produce too (its rates come from the produce scenario)');
  return o;
}

export function runId(o: Options, at: Date, dirty: boolean | null): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  return `${stamp}-${o.profile.name}${o.vsKafka ? '-vs-kafka' : ''}${dirty === false ? '' : '-DIRTY'}`;
}

/** Why a run must not start from this tree, or null. Reference results come from a clean commit
 * (the JSON records it): a full run from a dirty tree needs --allow-dirty, and is named so. */
export function dirtyTreeRefusal(o: Options, dirty: boolean | null): string | null {
  if (dirty === false || o.profile.name !== 'full' || o.allowDirty) return null;
  return dirty === null
    ? 'cannot tell whether the tree is clean (git status failed); a full run needs a clean commit (or --allow-dirty)'
    : 'the tree has uncommitted changes; a full (reference) run needs a clean commit: commit or stash, or pass --allow-dirty (the results are then named …-DIRTY)';
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const gitAtStart = gitState();
  const gitDirty = gitAtStart.dirty;
  const refusal = dirtyTreeRefusal(o, gitDirty);
  if (refusal !== null) throw new Error(refusal);
  const started = new Date();
  const t0 = performance.now();
  const log = (line: string) => {
    const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
    process.stdout.write(`[${s}s] ${line}\n`);
  };
  log(`pnpm bench: ${o.profile.name} profile${o.vsKafka ? ', with Apache Kafka' : ''}; scenarios ${o.only.join(', ')}`);
  if (gitDirty !== false) log('WARNING: uncommitted changes in the tree (or git status failed): these results are not a reference run (machine.gitDirty)');
  const estimate = estimateRun({ profile: o.profile, vsKafka: o.vsKafka, only: o.only, writerComparisons: WRITER_COMPARISONS.length });
  log(
    `estimated duration on a 2-vCPU VM: ${Math.round(estimate.totalS / 60)} min (${Object.entries(estimate.byScenario)
      .map(([k, v]) => `${k} ${Math.round(v)} s`)
      .join(', ')}), plus the loadgen build`,
  );
  log('building loadgen (cargo build --release -p loadgen)');
  await buildLoadgen();

  let kafka: KafkaSide | null = null;
  if (o.vsKafka) {
    const java = javaVersion();
    const version = kafkaVersion();
    const libs = ensureKafkaJars(version, log);
    kafka = { version, libs, java, start: (workDir) => startKafka({ libs, version, workDir }) };
    log(`Apache Kafka ${version} on ${java}`);
  }

  const tmpRoot = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const events = syscallEvents();
  const syscallNote = !o.syscalls ? 'disabled (--no-syscalls)' : 'unavailable' in events ? events.unavailable : null;
  if (syscallNote !== null) log(`syscalls will not be counted: ${syscallNote}`);
  const ctx: Context = {
    profile: o.profile,
    tmpRoot,
    syscallEvents: o.syscalls && 'events' in events ? events.events : null,
    kafka,
    cells: [],
    failures: [],
    log,
  };
  // The commit is the one the run started from; gitDirty is set again at the end (dirtyOverRun).
  const machine = { ...describeMachine(tmpRoot), gitCommit: gitAtStart.commit, gitDirty };
  log(`machine: ${machine.cpuModel}, ${machine.cores} cores, Linux ${machine.kernel}, Node ${machine.node}, load ${machine.loadAverageAtStart.join(' ')}`);

  // Ctrl-C: the brokers (same process group) get the signal too; the scratch space, which can
  // hold gigabytes, is removed before exiting.
  process.once('SIGINT', () => {
    rmSync(tmpRoot, { recursive: true, force: true });
    process.exit(130);
  });
  let startup: StartupSample[] = [];
  try {
    if (o.only.includes('startup')) startup = await runStartup(ctx);
    if (o.only.includes('fetch')) await runFetch(ctx);
    if (o.only.includes('produce')) await runProduce(ctx);
    if (o.only.includes('e2e')) await runE2E(ctx);
    if (o.only.includes('sessions')) await runSessions(ctx);
    if (o.only.includes('tls')) await runTls(ctx);
    if (o.only.includes('txn')) await runTxn(ctx);
    if (o.only.includes('cold')) await runColdReader(ctx);
  } finally {
    rmSync(tmpRoot, { recursive: true, force: true });
  }

  const l = new Lookup(ctx.cells);
  const p = o.profile;
  const tables = tablesFor(l, p, startup, o.only);
  const charts: Array<{ name: string; chart: Chart }> = [];
  if (o.only.includes('fetch')) charts.push({ name: 'fetch', chart: fetchChart(l, p) }, { name: 'fanout', chart: fanoutChart(l, p) });
  if (o.only.includes('produce')) charts.push({ name: 'produce', chart: produceChart(l, p) });
  if (o.only.includes('e2e')) charts.push({ name: 'e2e', chart: e2eChart(l, p) });
  if (startup.length > 0) charts.push({ name: 'startup', chart: startupChart(startup, p) });
  const targets = targetChecks(l, p).filter((t) => t.value !== null);
  // The cold-reader goal is an upper bound (≤ 1.5×): its table prints met/missed itself.
  if (o.only.includes('cold')) targets.push(...coldReaderTargets(l));

  process.stdout.write('\n');
  for (const t of tables) process.stdout.write(`${renderTable(t)}\n\n`);
  for (const g of summarize(l, p, startup)) process.stdout.write(`${g.heading}. ${g.sentences.join(' ')}\n\n`);

  machine.gitDirty = dirtyOverRun(gitAtStart, gitState());
  if (machine.gitDirty !== false) log('WARNING: the tree was not one clean commit throughout the run (machine.gitDirty): not a reference run');
  const id = runId(o, started, machine.gitDirty);
  mkdirSync(o.outDir, { recursive: true });
  const chartFiles: string[] = [];
  for (const { name, chart } of charts) {
    const file = join(o.outDir, `${id}-${name}.svg`);
    writeFileSync(file, renderChart(chart));
    chartFiles.push(relative(o.outDir, file));
  }
  const jsonFile = join(o.outDir, `${id}.json`);
  const record = {
    run: id,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: Math.round((performance.now() - t0) / 100) / 10,
    estimatedS: Math.round(estimate.totalS),
    options: { profile: p.name, vsKafka: o.vsKafka, only: o.only, syscalls: o.syscalls },
    profile: p,
    machine,
    kafka: kafka === null ? null : { version: kafka.version, java: kafka.java },
    syscalls: syscallNote === null ? { counted: true, events: ctx.syscallEvents } : { counted: false, why: syscallNote },
    startup,
    failures: ctx.failures,
    targets,
    tables: tables.map((t) => ({ title: t.title, notes: t.notes, columns: t.columns, rows: t.rows })),
    charts: chartFiles,
    cells: ctx.cells,
  };
  writeFileSync(jsonFile, `${JSON.stringify(record, null, 2)}\n`);
  log(`results: ${relative(ROOT, jsonFile)} and ${chartFiles.length} charts in ${relative(ROOT, o.outDir) || '.'}`);
  if (ctx.failures.length > 0) {
    log(`${ctx.failures.length} measurement(s) failed (see "failures" in the JSON):`);
    for (const f of ctx.failures) log(`  ${f.what}: ${f.error.split('\n')[0]}`);
    process.exitCode = 1;
  }
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`pnpm bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

// Cluster fault runs: `pnpm exec node test/cluster-faults/run.ts [--episodes 200] [--brokers 3|5] [--hold-ms 10000]
// [--settle-ms 2000] [--max-seconds S] [--seed N] [--kinds kill,pause,...] [--out file.json]
// [--result]`. Root only. `--max-seconds`: no new episode after that long (the run then reports
// how many it did).
//
// The outer process owns the network: it sweeps namespaces left by dead runs, creates the bridge
// and the namespaces (netns.ts), re-executes itself inside the clients' namespace (where the
// workload and the orchestration run and every broker is reachable), and deletes the namespaces
// and the work dir afterwards — also when the inner run fails or this process is interrupted.
// Prints a summary, writes it as JSON (`--out`, or with `--result` to
// bench/results/<ISO time>-cluster-fault-<mode>.json), exits 1 on any anomaly or problem.

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FAULT_KINDS, type FaultKind } from './faults.ts';
import { runFaults } from './harness.ts';
import { assertIsolated, createTopology, destroyTopology, type NodeSpec, sweepStaleNamespaces, topologyOf } from './netns.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
/** etcd, the clients, the members b1..bN and one spare broker (the membership fault's newcomer). */
export function nodesFor(brokers: number): NodeSpec[] {
  return [
    { name: 'etcd', address: '10.200.0.2' },
    { name: 'cli', address: '10.200.0.3' },
    ...Array.from({ length: brokers + 1 }, (_, i) => ({ name: `b${i + 1}`, address: `10.200.0.${11 + i}` })),
  ];
}

const { values } = parseArgs({
  options: {
    episodes: { type: 'string', default: '200' },
    brokers: { type: 'string', default: '3' },
    'hold-ms': { type: 'string', default: '10000' },
    'settle-ms': { type: 'string', default: '2000' },
    'max-seconds': { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    kinds: { type: 'string', default: FAULT_KINDS.join(',') },
    mode: { type: 'string', default: 'long' },
    out: { type: 'string' },
    result: { type: 'boolean', default: false },
    // internal: set by the outer process for the inner one
    inner: { type: 'string' },
  },
});

const kinds = values.kinds.split(',').map((k) => k.trim()) as FaultKind[];
for (const k of kinds) if (!FAULT_KINDS.includes(k)) throw new Error(`unknown fault kind ${k} (${FAULT_KINDS.join(', ')})`);
const brokers = Number(values.brokers);
if (brokers !== 3 && brokers !== 5) throw new Error('--brokers is 3 or 5');
const NODES = nodesFor(brokers);

if (values.inner !== undefined) {
  // Inner: inside the clients' namespace. `--inner <owner pid>:<work dir>`.
  const [owner, workDir] = [values.inner.slice(0, values.inner.indexOf(':')), values.inner.slice(values.inner.indexOf(':') + 1)];
  const summary = await runFaults({
    topology: topologyOf(NODES, Number(owner)),
    workDir,
    seed: Number(values.seed),
    brokers,
    episodes: Number(values.episodes),
    holdMs: Number(values['hold-ms']),
    settleMs: Number(values['settle-ms']),
    maxMs: values['max-seconds'] === undefined ? undefined : Number(values['max-seconds']) * 1000,
    kinds,
    progress: (line) => process.stdout.write(`${line}\n`),
  });
  writeFileSync(join(workDir, 'summary.json'), JSON.stringify(summary));
  process.exit(0);
}

if (process.getuid?.() !== 0) throw new Error('the cluster fault harness needs root (network namespaces, nftables)');
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const swept = sweepStaleNamespaces();
if (swept.length > 0) process.stdout.write(`removed namespaces of dead runs: ${swept.join(', ')}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'sluice-faults-'));
const topology = createTopology(NODES);
let inner: ReturnType<typeof spawn> | null = null;
const cleanup = () => {
  inner?.kill('SIGKILL');
  // The brokers' tmpfs disks were mounted by the inner process, in the mount namespace `ip netns
  // exec` gave it: they go with the last process of that namespace (killed above).
  destroyTopology(topology);
  rmSync(workDir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}
const startedAt = new Date();
let code: number | null;
let summaryText: string;
let isolationProblem: string | null = null;
try {
  const args = [
    join(ROOT, 'test', 'cluster-faults', 'run.ts'),
    '--inner',
    `${topology.owner}:${workDir}`,
    '--episodes',
    values.episodes,
    '--brokers',
    values.brokers,
    '--hold-ms',
    values['hold-ms'],
    '--settle-ms',
    values['settle-ms'],
    '--seed',
    values.seed,
    '--kinds',
    kinds.join(','),
    ...(values['max-seconds'] === undefined ? [] : ['--max-seconds', values['max-seconds']]),
  ];
  inner = spawn('ip', ['netns', 'exec', topology.ns('cli'), process.execPath, ...args], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  code = await new Promise<number | null>((r) => inner!.once('exit', (c) => r(c)));
  summaryText = code === 0 ? readFileSync(join(workDir, 'summary.json'), 'utf8') : '';
  try {
    assertIsolated(topology);
  } catch (err) {
    isolationProblem = (err as Error).message;
  }
} finally {
  cleanup();
}
if (code !== 0) {
  process.stderr.write(`the inner run exited with ${code}\n`);
  process.exit(1);
}
const summary = JSON.parse(summaryText);
const artifact = {
  kind: 'cluster-fault',
  mode: values.mode,
  commit,
  seed: Number(values.seed),
  brokers,
  startedAt: startedAt.toISOString(),
  seconds: summary.seconds,
  episodes: summary.episodes,
  holdMs: Number(values['hold-ms']),
  anomalies: summary.check.anomalies,
  counts: summary.check.counts,
  acknowledged: summary.check.acknowledged,
  indeterminate: summary.check.indeterminate,
  indeterminateFound: summary.check.indeterminateFound,
  finalRecords: summary.check.finalRecords,
  polledRecords: summary.check.polledRecords,
  workloads: summary.check.workloads,
  episodesPerKind: Object.fromEntries(kinds.map((k) => [k, summary.faults.filter((f: { kind: string }) => f.kind === k).length])),
  problems: isolationProblem === null ? summary.problems : [...summary.problems, isolationProblem],
  brokerCrashes: summary.brokerCrashes,
  examples: summary.check.examples,
  faults: summary.faults,
  machine: { cpus: cpus().length, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
};
const json = `${JSON.stringify(artifact, null, 2)}\n`;
const outPath =
  values.out ??
  (values.result
    ? join(
        ROOT,
        'bench',
        'results',
        `${startedAt
          .toISOString()
          .replace(/:/g, '-')
          .replace(/\.\d+Z$/, 'Z')}-cluster-fault-${values.mode}.json`,
      )
    : undefined);
if (outPath !== undefined) writeFileSync(outPath, json);
process.stdout.write(
  `\ncluster faults (${values.mode}, seed ${artifact.seed}): ${artifact.episodes} episodes in ${artifact.seconds} s; ` +
    `${artifact.acknowledged} acknowledged, ${artifact.finalRecords} read back, ${artifact.indeterminate} indeterminate (${artifact.indeterminateFound} found); ` +
    `workloads ${JSON.stringify(artifact.workloads)}; ` +
    `anomalies ${artifact.anomalies} ${JSON.stringify(artifact.counts)}; problems ${artifact.problems.length}${outPath ? `; written to ${outPath}` : ''}\n`,
);
for (const p of artifact.problems) process.stdout.write(`problem: ${p.slice(0, 2000)}\n`);
for (const [cls, list] of Object.entries(artifact.examples)) for (const e of list as string[]) process.stdout.write(`${cls}: ${e}\n`);
process.exit(artifact.anomalies === 0 && artifact.problems.length === 0 ? 0 : 1);

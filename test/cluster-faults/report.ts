// The cluster-fault tables of the READMEs, generated from the committed summaries
// (bench/results/*-cluster-fault-*.json): in test/cluster-faults/README.md one line per run with
// its totals and per fault kind the episodes, the acknowledgements while the fault was in place
// and how long the cluster took to be whole again after healing (every broker back in every
// ISR); in the root README the same per-kind figures beside what each fault costs in
// availability (AVAILABILITY below). `pnpm exec node test/cluster-faults/report.ts` prints both;
// `--write` replaces the marked blocks; report.test.ts fails when a README differs from them.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');
const RESULTS = join(ROOT, 'bench', 'results');
export const HARNESS_README = join(ROOT, 'test', 'cluster-faults', 'README.md');
export const ROOT_README = join(ROOT, 'README.md');
export const RUNS_BLOCK = 'cluster-fault-runs';
export const PROMISES_BLOCK = 'cluster-fault-promises';

interface Fault {
  kind: string;
  holdMs?: number;
  appliedAt: number;
  healedAt: number;
  wholeAt: number | null;
  acksDuringFault: number;
}
interface Summary {
  mode: string;
  commit: string;
  seed: number;
  seconds: number;
  episodes: number;
  holdMs: number;
  anomalies: number;
  counts: Record<string, number>;
  acknowledged: number;
  finalRecords: number;
  problems: string[];
  faults: Fault[];
  /** Runs since the group, transactional and list-append workloads (absent before). */
  workloads?: {
    groupPolls: number;
    commits: number;
    transactions: { committed: number; aborted: number; indeterminate: number };
    appends: number;
    kafkajsAbortedVisible?: number;
  };
  brokers?: number;
  machine: { loadavgAtEnd: number[] };
}

/** What each fault kind costs in availability, as the harness sees it (the root README's promise table). */
const AVAILABILITY: Record<string, string> = {
  kill: '`kill`: kill -9 a broker | its partitions and group coordinators: until its lease expires (≤ 3 s) and a new leader is elected from the ISR; sends in flight fail',
  pause:
    '`pause`: SIGSTOP a broker for 10 s (past the 3 s lease) | as kill; on waking it finds its lease gone and is fenced (leads nothing) before it can answer as leader',
  'partition-isolate':
    '`partition-isolate`: a broker cut from the other brokers and etcd, both ways | it fences itself within the TTL (no etcd) and, without followers, its high watermark cannot move, so it acknowledges nothing; its partitions move after the TTL',
  'partition-one-way': "`partition-one-way`: a broker's packets to the other brokers and etcd dropped | as isolated",
  'partition-etcd': '`partition-etcd`: a broker cut from etcd only | it fences itself within the TTL; its partitions move after the TTL plus an election',
  'partition-majority':
    "`partition-majority`: clients with the minority broker, cut from the two others and etcd | for those clients nothing is acknowledged for the fault's duration (the majority goes on for clients that reach it)",
  'packet-loss': "`packet-loss`: 30 % of a broker's packets dropped | slower; its followers may leave the ISR for a while",
  'restart-wiped':
    '`restart-wiped`: kill -9, log dir deleted, restart empty | as kill; the empty broker rejoins under a new broker epoch, out of the ISR until caught up, never elected meanwhile',
  'disk-full':
    "`disk-full`: a broker's log dir full (ENOSPC) | writes to partitions it leads refused (KAFKA_STORAGE_ERROR, retried) until space returns; as a follower it leaves the ISR and comes back",
  'clock-jump':
    "`clock-jump`: a broker's wall clock stepped ±10 min | none seen (leases and timeouts use monotonic time); LogAppendTime timestamps from it are off by the step; a follower may stay in the ISR up to the step longer",
  latency: "`latency`: +150 ms on a broker's connections to the other brokers and etcd | acks=all slower on the partitions it follows",
  membership:
    '`membership`: a broker added, partitions moved onto it, the old one decommissioned; and back | each moved partition changes leader once (sends in flight may fail, retried); the new replica joins the ISR only once caught up, the old leaves only then',
};

function loadRuns(): Array<{ file: string; s: Summary }> {
  return readdirSync(RESULTS)
    .filter((f) => /-cluster-fault-.*\.json$/.test(f))
    .sort()
    .map((f) => ({ file: f, s: JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as Summary }));
}

const sum = (counts: Record<string, number>, classes: string[]) => classes.reduce((a, c) => a + (counts[c] ?? 0), 0);
const GROUP = ['committedOffsetsBackwards', 'groupNonMonotonicPolls', 'groupSkippedOffsets'];
const TXN = ['abortedVisible', 'partialTransaction', 'committedMissing'];
const APPEND = ['appendOrderViolation', 'appendLost'];
const median = (xs: number[]) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);

interface KindFigures {
  episodes: number;
  acksMedian: number;
  whole: string;
  runs: string[];
}

function byKind(runs: Array<{ file: string; s: Summary }>): Map<string, KindFigures> {
  const faults = new Map<string, Array<{ f: Fault; run: string }>>();
  for (const { file, s } of runs) for (const f of s.faults) faults.set(f.kind, [...(faults.get(f.kind) ?? []), { f, run: file.slice(0, 20) }]);
  const out = new Map<string, KindFigures>();
  for (const [kind, list] of [...faults].sort()) {
    const recoveries = list.filter((x) => x.f.wholeAt !== null).map((x) => x.f.wholeAt! - x.f.healedAt);
    const never = list.length - recoveries.length;
    out.set(kind, {
      episodes: list.length,
      acksMedian: median(list.map((x) => x.f.acksDuringFault)),
      whole: `${median(recoveries)} ms / ${Math.max(0, ...recoveries)} ms${never > 0 ? ` (${never} never whole)` : ''}`,
      runs: [...new Set(list.map((x) => x.run))],
    });
  }
  return out;
}

/** test/cluster-faults/README.md's block: one line per run and their totals, then per fault kind. */
export function runsBlock(runs = loadRuns()): string {
  const lines: string[] = [];
  lines.push(
    '| run | episodes (hold) | seconds | acknowledged | read back | lost | duplicated | reordered | inconsistent offsets | group: polls / commits / anomalies | transactions: committed / aborted / anomalies | list-append: appends / anomalies | all anomalies | problems | load avg at end |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const total = { episodes: 0, acknowledged: 0, anomalies: 0 };
  for (const { file, s } of runs) {
    total.episodes += s.episodes;
    total.acknowledged += s.acknowledged;
    total.anomalies += s.anomalies;
    lines.push(
      `| \`bench/results/${file}\` (${s.mode}, ${s.brokers ?? 3} brokers, seed ${s.seed}, ${s.commit.slice(0, 8)}) | ${s.episodes} (${s.holdMs / 1000} s) | ${s.seconds} | ${s.acknowledged} | ${s.finalRecords} | ${s.counts.lostAcknowledged} | ${s.counts.duplicates} | ${s.counts.reordered} | ${s.counts.inconsistentOffsets + s.counts.movedAcknowledged} | ${
        s.workloads === undefined
          ? 'not run | not run | not run'
          : `${s.workloads.groupPolls} / ${s.workloads.commits} / ${sum(s.counts, GROUP)} | ${s.workloads.transactions.committed} / ${s.workloads.transactions.aborted} / ${sum(s.counts, TXN)} | ${s.workloads.appends} / ${sum(s.counts, APPEND)}`
      } | **${s.anomalies}** | ${s.problems.length} | ${s.machine.loadavgAtEnd[0]} |`,
    );
  }
  lines.push(`| total | ${total.episodes} | | ${total.acknowledged} | | | | | | | | | **${total.anomalies}** | | |`);
  lines.push('');
  lines.push('| fault kind | episodes | acks while in place (median) | healed → whole (median / max) |');
  lines.push('| --- | --- | --- | --- |');
  for (const [kind, k] of byKind(runs)) lines.push(`| ${kind} | ${k.episodes} | ${k.acksMedian} | ${k.whole} |`);
  return lines.join('\n');
}

/** The root README's block: per fault kind what it costs and what the runs measured. */
export function promisesBlock(runs = loadRuns()): string {
  const lines = [
    '| fault | availability lost | episodes | acks while in place (median) | healed → whole (median / max) | runs |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  const kinds = byKind(runs);
  for (const [kind, text] of Object.entries(AVAILABILITY)) {
    const k = kinds.get(kind);
    lines.push(`| ${text} | ${k?.episodes ?? 0} | ${k?.acksMedian ?? '—'} | ${k?.whole ?? '—'} | ${k?.runs.join(', ') ?? 'none'} |`);
  }
  for (const kind of kinds.keys()) if (!(kind in AVAILABILITY)) throw new Error(`fault kind ${kind} has no availability text in report.ts`);
  return lines.join('\n');
}

export const begin = (name: string) => `<!-- ${name}:begin (generated by test/cluster-faults/report.ts; do not edit) -->`;
export const end = (name: string) => `<!-- ${name}:end -->`;

/** The text between a block's markers, or null when the file has none. */
export function blockIn(text: string, name: string): string | null {
  const b = text.indexOf(begin(name));
  const e = text.indexOf(end(name));
  return b < 0 || e < b ? null : text.slice(b + begin(name).length, e).trim();
}

function withBlock(text: string, name: string, block: string): string {
  const b = text.indexOf(begin(name));
  const e = text.indexOf(end(name));
  if (b < 0 || e < b) throw new Error(`no ${begin(name)} … ${end(name)} block`);
  return `${text.slice(0, b + begin(name).length)}\n${block}\n${text.slice(e)}`;
}

if (import.meta.main) {
  const runs = loadRuns();
  if (process.argv.includes('--write')) {
    writeFileSync(HARNESS_README, withBlock(readFileSync(HARNESS_README, 'utf8'), RUNS_BLOCK, runsBlock(runs)));
    writeFileSync(ROOT_README, withBlock(readFileSync(ROOT_README, 'utf8'), PROMISES_BLOCK, promisesBlock(runs)));
  } else process.stdout.write(`${runsBlock(runs)}\n\n${promisesBlock(runs)}\n`);
}

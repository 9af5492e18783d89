// The README's cluster-fault table, generated from the committed summaries:
// `pnpm exec node test/cluster-faults/report.ts` reads bench/results/*-cluster-fault-*.json and
// prints Markdown: one line per run, their totals, and per fault kind the episodes, the
// acknowledgements while the fault was in place and how long the cluster took to be whole
// again after healing (every broker back in every ISR).

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const RESULTS = resolve(import.meta.dirname, '..', '..', 'bench', 'results');

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

const files = readdirSync(RESULTS)
  .filter((f) => /-cluster-fault-.*\.json$/.test(f))
  .sort();
const runs = files.map((f) => ({ file: f, s: JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as Summary }));

const lines: string[] = [];
lines.push(
  '| run | episodes (hold) | seconds | acknowledged | read back | lost | duplicated | reordered | inconsistent offsets | group: polls / commits / anomalies | transactions: committed / aborted / anomalies | list-append: appends / anomalies | all anomalies | problems | load avg at end |',
);
lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
const sum = (counts: Record<string, number>, classes: string[]) => classes.reduce((a, c) => a + (counts[c] ?? 0), 0);
const GROUP = ['committedOffsetsBackwards', 'groupNonMonotonicPolls', 'groupSkippedOffsets'];
const TXN = ['abortedVisible', 'partialTransaction', 'committedMissing'];
const APPEND = ['appendOrderViolation', 'appendLost'];
const total = { episodes: 0, acknowledged: 0, anomalies: 0 };
for (const { file, s } of runs) {
  total.episodes += s.episodes;
  total.acknowledged += s.acknowledged;
  total.anomalies += s.anomalies;
  lines.push(
    `| \`bench/results/${file}\` (${s.mode}, ${s.brokers ?? 3} brokers, seed ${s.seed}, ${s.commit.slice(0, 8)}) | ${s.episodes} (${s.holdMs / 1000} s) | ${s.seconds} | ${s.acknowledged} | ${s.finalRecords} | ${s.counts.lostAcknowledged} | ${s.counts.duplicates} | ${s.counts.reordered} | ${s.counts.inconsistentOffsets + s.counts.movedAcknowledged} | ${
      s.workloads === undefined
        ? 'not run'
        : `${s.workloads.groupPolls} / ${s.workloads.commits} / ${sum(s.counts, GROUP)} | ${s.workloads.transactions.committed} / ${s.workloads.transactions.aborted} / ${sum(s.counts, TXN)} | ${s.workloads.appends} / ${sum(s.counts, APPEND)}`
    }${s.workloads === undefined ? ' | not run | not run' : ''} | **${s.anomalies}** | ${s.problems.length} | ${s.machine.loadavgAtEnd[0]} |`,
  );
}
lines.push(`| total | ${total.episodes} | | ${total.acknowledged} | | | | | | | | | **${total.anomalies}** | | |`);
lines.push('');
lines.push('| fault kind | episodes | acks while in place (median) | healed → whole (median / max) |');
lines.push('| --- | --- | --- | --- |');
const byKind = new Map<string, Fault[]>();
for (const { s } of runs) for (const f of s.faults) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f]);
const median = (xs: number[]) => (xs.length === 0 ? 0 : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
for (const [kind, faults] of [...byKind].sort()) {
  const recoveries = faults.filter((f) => f.wholeAt !== null).map((f) => f.wholeAt! - f.healedAt);
  const never = faults.length - recoveries.length;
  lines.push(
    `| ${kind} | ${faults.length} | ${median(faults.map((f) => f.acksDuringFault))} | ${median(recoveries)} ms / ${Math.max(0, ...recoveries)} ms${never > 0 ? ` (${never} never whole)` : ''} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);

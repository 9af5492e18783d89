// The three-broker benchmark's README block (bench/cluster.ts → bench/results/<stamp>-cluster-….json):
// one table per run, Sluice beside Kafka, the ratios and the issue's goals judged from the JSON
// alone (goal: ≥ 1.0× Kafka's MB/s at ≤ its CPU per GB; failover p99 ≤ Kafka's).

import type { Table } from './table.ts';

/** A cell of bench/cluster.ts's JSON (the fields the block reads). */
export interface ClusterCell {
  target: 'sluice' | 'kafka';
  scenario: string;
  mbPerS: number;
  /** CPU seconds of the three brokers together per GB moved. */
  cpuSPerGB: number | null;
  produceP99Us?: number;
  /** Leader killed → first acknowledged produce on the new leader (lib/failover.ts). */
  failoverMs?: { p50: number; p99: number; all: number[] };
}

export interface ClusterRecord {
  machine: {
    cpuModel: string;
    cores: number;
    kernel: string;
    loadAverageAtStart: number[];
    gitCommit: string | null;
    gitDirty: boolean | null;
  };
  options: { quick: boolean; vsKafka: boolean };
  kafka?: { version: string; java: string };
  cells: ClusterCell[];
}

/** True for a results JSON written by bench/cluster.ts. */
export function isClusterRecord(json: unknown): json is ClusterRecord {
  const r = json as Partial<ClusterRecord>;
  return typeof r.options?.quick === 'boolean' && Array.isArray(r.cells) && r.cells.some((c) => c.scenario.startsWith('failover'));
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

export function clusterTable(r: ClusterRecord): Table {
  const rows: string[][] = [];
  for (const s of r.cells.filter((c) => c.target === 'sluice')) {
    const k = r.cells.find((c) => c.target === 'kafka' && c.scenario === s.scenario);
    if (s.failoverMs !== undefined) {
      const kf = k?.failoverMs;
      rows.push([
        s.scenario,
        `p50 ${Math.round(s.failoverMs.p50)} / p99 ${Math.round(s.failoverMs.p99)}`,
        kf === undefined ? '—' : `p50 ${Math.round(kf.p50)} / p99 ${Math.round(kf.p99)}`,
        kf === undefined ? '—' : `p99 ${f2(s.failoverMs.p99 / kf.p99)}×`,
        kf === undefined ? '—' : met(s.failoverMs.p99 <= kf.p99),
      ]);
      continue;
    }
    const cpu = (c: ClusterCell | undefined) => (c?.cpuSPerGB == null ? '—' : f2(c.cpuSPerGB));
    const ratio = k === undefined ? null : s.mbPerS / k.mbPerS;
    const cpuRatio = k?.cpuSPerGB == null || s.cpuSPerGB === null ? null : s.cpuSPerGB / k.cpuSPerGB;
    rows.push([
      s.scenario,
      `${f1(s.mbPerS)} MB/s, ${cpu(s)} CPU s/GB`,
      k === undefined ? '—' : `${f1(k.mbPerS)} MB/s, ${cpu(k)} CPU s/GB`,
      ratio === null ? '—' : `${f2(ratio)}× MB/s at ${cpuRatio === null ? '—' : f2(cpuRatio)}× CPU/GB`,
      ratio === null || cpuRatio === null ? '—' : met(ratio >= 1 && cpuRatio <= 1),
    ]);
  }
  return {
    title: 'Three brokers, Sluice ÷ Kafka (one window per cell; failover over every kill)',
    notes: [],
    columns: ['scenario', 'Sluice', 'Kafka', 'Sluice ÷ Kafka', 'goal'],
    labelColumns: 1,
    rows,
  };
}

/** The run line: what ran, from which tree, on what machine. */
export function clusterHeader(r: ClusterRecord, source: string): string {
  const m = r.machine;
  const tree =
    m.gitDirty === false
      ? `clean commit \`${(m.gitCommit ?? 'unknown').slice(0, 10)}\``
      : `**a tree with uncommitted changes (commit \`${(m.gitCommit ?? 'unknown').slice(0, 10)}\` plus edits): not a reference run**`;
  const kafka =
    r.kafka === undefined
      ? 'a 3-node Apache Kafka (the version the bench pins; this JSON predates recording it)'
      : `a 3-node Apache Kafka ${r.kafka.version} (${r.kafka.java})`;
  const flags = [r.options.quick ? '--quick' : '', r.options.vsKafka ? '--vs-kafka' : ''].filter((x) => x !== '').join(' ');
  const lines = [
    `Run \`${source}\`: \`pnpm exec node bench/cluster.ts ${flags}\`, Sluice${r.options.vsKafka ? ` then ${kafka}` : ' only'}; ${tree}; ` +
      `${m.cpuModel}, ${m.cores} vCPUs, Linux ${m.kernel}; load average at start ${m.loadAverageAtStart.join(' ')}. ` +
      'Generated from the JSON by `bench/lib/report/readme.ts`.',
  ];
  if (r.options.quick) lines.push('', '**Quick profile: a smoke run, not a result.**');
  return lines.join('\n');
}

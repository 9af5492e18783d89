// One SVG chart per scenario, built from the same medians as the tables.

import type { Profile } from '../profile.ts';
import { RECEIVERS } from '../profile.ts';
import type { Metrics } from '../results.ts';
import { SINGLE_WRITER_MODE, WRITER_COMPARISONS, fetchKey } from '../scenarios/fetch.ts';
import { cellLabel, e2eKey, e2eLoads, produceKey } from '../scenarios/produce.ts';
import type { StartupSample } from '../scenarios/startup.ts';
import { APPEND_MODES, TRANSFER_MODES } from '../sluice.ts';
import { median, sizeLabel } from '../units.ts';
import type { Chart, Group, Series } from './svg.ts';
import type { Lookup } from './tables.ts';

const COLORS: Record<string, string> = {
  sendfile: '#1f77b4',
  splice: '#2ca02c',
  copy: '#d62728',
  'raw sendfile': '#9ecae1',
  'raw splice': '#a1d99b',
  'raw copy': '#fcae91',
  mmap: '#9467bd',
  pwrite: '#ff7f0e',
  'sendfile-1thread': '#6baed6',
  [SINGLE_WRITER_MODE]: '#17becf',
  kafka: '#7f7f7f',
  sluice: '#1f77b4',
};

interface SeriesSpec {
  name: string;
  target: 'sluice' | 'kafka' | 'probe';
  mode: string;
}

function series(specs: SeriesSpec[]): Series[] {
  return specs.map((s) => ({ name: s.name, color: COLORS[s.name] ?? '#444' }));
}

function groups(
  l: Lookup,
  scenario: 'fetch' | 'produce' | 'e2e',
  specs: SeriesSpec[],
  keys: Array<{ label: string; key: Record<string, string | number> }>,
  metric: keyof Metrics,
  scale = 1,
): Group[] {
  return keys.map(({ label, key }) => ({
    label,
    values: specs.map((s) => {
      const v = l.get(scenario, s.target, s.mode, key, metric);
      return v === null ? null : v * scale;
    }),
  }));
}

function subtitle(p: Profile, extra: string): string {
  return `${p.name} profile, ${p.reps} repetition(s) of ${p.measureS} s (median shown). ${extra}`;
}

export function fetchChart(l: Lookup, p: Profile): Chart {
  const specs: SeriesSpec[] = [
    ...TRANSFER_MODES.map((m) => ({ name: m, target: 'sluice' as const, mode: m })),
    ...TRANSFER_MODES.map((m) => ({ name: `raw ${m}`, target: 'probe' as const, mode: m })),
  ];
  if (l.has('kafka')) specs.push({ name: 'kafka', target: 'kafka', mode: 'kafka' });
  const keys = RECEIVERS.flatMap((receiver) =>
    p.fetch.consumers.map((consumers) => ({ label: `${receiver.name} ×${consumers}`, key: fetchKey({ receiver, consumers }) })),
  );
  return {
    title: 'Fetch from page cache: sendfile vs splice vs copy, next to the raw limit',
    subtitle: subtitle(p, `${sizeLabel(p.fetch.partitionMaxBytes)} ranges; raw = plain probe, same mode and receiver.`),
    series: series(specs),
    panels: [
      { title: 'Throughput, MB/s (higher is better)', groups: groups(l, 'fetch', specs, keys, 'mbPerS') },
      { title: "CPU seconds per GB: broker process, or the probe's sending threads (lower is better)", groups: groups(l, 'fetch', specs, keys, 'cpuSPerGB') },
      {
        title: "Context switches per GB: broker process, or the probe's sending threads (lower is better)",
        groups: groups(l, 'fetch', specs, keys, 'ctxPerGB'),
      },
    ],
  };
}

export function fanoutChart(l: Lookup, p: Profile): Chart {
  const specs: SeriesSpec[] = TRANSFER_MODES.map((m) => ({ name: m, target: 'sluice' as const, mode: m }));
  for (const c of WRITER_COMPARISONS) if (l.has('sluice', c.mode)) specs.push({ name: c.mode, target: 'sluice', mode: c.mode });
  if (l.has('kafka')) specs.push({ name: 'kafka', target: 'kafka', mode: 'kafka' });
  const receiver = RECEIVERS[0]!;
  const keys = p.fetch.fanout.map((consumers) => ({ label: `${consumers} consumer${consumers === 1 ? '' : 's'}`, key: fetchKey({ receiver, consumers }) }));
  return {
    title: 'Fan-out: consumers reading the same hot data',
    subtitle: subtitle(p, `Receiver ${receiver.name}.`),
    series: series(specs),
    panels: [
      { title: 'Total throughput, MB/s', groups: groups(l, 'fetch', specs, keys, 'mbPerS') },
      { title: 'Broker CPU seconds per GB', groups: groups(l, 'fetch', specs, keys, 'cpuSPerGB') },
    ],
  };
}

export function produceChart(l: Lookup, p: Profile): Chart {
  const specs: SeriesSpec[] = APPEND_MODES.map((m) => ({ name: m, target: 'sluice' as const, mode: m }));
  if (l.has('kafka')) specs.push({ name: 'kafka', target: 'kafka', mode: 'kafka' });
  const keys = p.produce.cells.map((c) => ({ label: cellLabel(c).replace(' ', '\n'), key: produceKey(c) }));
  const refLines = [
    { label: 'raw write() limit', value: l.get('produce', 'probe', 'write', {}, 'mbPerS'), color: '#333' },
    { label: 'raw mmap limit', value: l.get('produce', 'probe', 'mmap', {}, 'mbPerS'), color: '#9467bd' },
  ].filter((r): r is { label: string; value: number; color: string } => r.value !== null);
  return {
    title: 'Produce: mmap vs pwrite append',
    subtitle: subtitle(p, 'Dashed: raw appends of 1 MiB into new page-cache pages, same run.'),
    series: series(specs),
    panels: [
      { title: 'Throughput, MB/s of batches acknowledged', groups: groups(l, 'produce', specs, keys, 'mbPerS'), refLines },
      { title: 'Broker CPU seconds per GB', groups: groups(l, 'produce', specs, keys, 'cpuSPerGB') },
      { title: 'Produce latency p99, ms', groups: groups(l, 'produce', specs, keys, 'produceP99Us', 1 / 1000), scale: 'log' },
    ],
  };
}

export function e2eChart(l: Lookup, p: Profile): Chart {
  const specs: SeriesSpec[] = APPEND_MODES.map((m) => ({ name: m, target: 'sluice' as const, mode: m }));
  if (l.has('kafka')) specs.push({ name: 'kafka', target: 'kafka', mode: 'kafka' });
  const keys = e2eLoads(p).map((load) => ({ label: `${load.pct}% of ${load.of} max`, key: e2eKey(load) }));
  return {
    title: 'End-to-end latency: produce → consumer receives',
    subtitle: subtitle(
      p,
      `${cellLabel(p.e2e.base)}; shared max = the lowest produce maximum of all brokers and modes, own max = each one's own (produce scenario).`,
    ),
    series: series(specs),
    panels: [
      { title: 'p50, ms', groups: groups(l, 'e2e', specs, keys, 'e2eP50Us', 1 / 1000), scale: 'log' },
      { title: 'p99, ms', groups: groups(l, 'e2e', specs, keys, 'e2eP99Us', 1 / 1000), scale: 'log' },
      { title: 'p99.9, ms', groups: groups(l, 'e2e', specs, keys, 'e2eP999Us', 1 / 1000), scale: 'log' },
    ],
  };
}

export function startupChart(samples: readonly StartupSample[], p: Profile): Chart {
  const targets = (['sluice', 'kafka'] as const).filter((t) => samples.some((s) => s.target === t));
  const specs = targets.map((t) => ({ name: t, color: COLORS[t]! }));
  const value = (t: 'sluice' | 'kafka', f: (s: StartupSample) => number) => median(samples.filter((s) => s.target === t).map(f));
  return {
    title: 'Start to ready and idle memory',
    subtitle: `${p.name} profile, median of ${p.startup.reps}; empty data dir.`,
    series: specs,
    panels: [
      { title: 'Spawn → answering Metadata, ms', groups: [{ label: '', values: targets.map((t) => value(t, (s) => s.readyMs)) }] },
      { title: 'Idle RSS, MiB', groups: [{ label: '', values: targets.map((t) => value(t, (s) => s.idleRssKb / 1024)) }] },
    ],
  };
}

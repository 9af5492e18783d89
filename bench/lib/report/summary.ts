// The sentences that state a run's results in prose, computed from its cells: every range is
// the lowest to the highest of all the cells it speaks for (medians over repetitions), and every
// target and goal is stated as met or MISSED from the same figures the tables print. Nothing here
// is written by hand, so the README cannot say what its JSON does not.

import type { Profile } from '../profile.ts';
import { RECEIVERS, fetchCells } from '../profile.ts';
import type { Metrics } from '../results.ts';
import { WRITER_COMPARISONS, fetchKey } from '../scenarios/fetch.ts';
import { cellLabel, e2eKey, e2eLoads, produceKey } from '../scenarios/produce.ts';
import type { StartupSample } from '../scenarios/startup.ts';
import { APPEND_MODES, TRANSFER_MODES } from '../sluice.ts';
import { fmt, median, ratio } from '../units.ts';
import { type Lookup, targetChecks } from './tables.ts';

type Num = number | null;

/** "a–b" over every known value (or "a" when they are equal), formatted, then the unit; null
 * when none is known. */
export function span(values: readonly Num[], f: (x: number) => string = (x) => fmt(x), unit = ''): string | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return null;
  const lo = f(Math.min(...v));
  const hi = f(Math.max(...v));
  return `${lo === hi ? lo : `${lo}–${hi}`}${unit}`;
}

const times = (values: readonly Num[]) => span(values, (x) => x.toFixed(2), '×');
const percent = (values: readonly Num[]) => span(values, (x) => String(Math.round(x * 100)), '%');
const x2 = (x: number) => `${x.toFixed(2)}×`;
const pct = (x: number) => `${Math.round(x * 100)}%`;
const msOf = (us: number) => fmt(us / 1000);

function fetchSentences(l: Lookup, p: Profile): string[] {
  const out: string[] = [];
  const keys = RECEIVERS.flatMap((receiver) => p.fetch.consumers.map((consumers) => fetchKey({ receiver, consumers })));
  const g = (target: 'sluice' | 'kafka' | 'probe', mode: string, key: Record<string, string | number>, m: keyof Metrics) =>
    l.get('fetch', target, mode, key, m);
  const cpuVsCopy = (mode: string) => times(keys.map((k) => ratio(g('sluice', mode, k, 'cpuSPerGB'), g('sluice', 'copy', k, 'cpuSPerGB'))));
  const sf = cpuVsCopy('sendfile');
  if (sf !== null) {
    out.push(
      `Broker CPU per GB, zero-copy ÷ copy over every receiver and consumer count of table 1: sendfile ${sf}, splice ${cpuVsCopy('splice') ?? '—'} ` +
        `(sendfile ${span(keys.map((k) => g('sluice', 'sendfile', k, 'cpuSPerGB'))) ?? '—'} CPU s/GB, copy ${span(keys.map((k) => g('sluice', 'copy', k, 'cpuSPerGB'))) ?? '—'}).`,
    );
    for (const receiver of RECEIVERS) {
      const rk = p.fetch.consumers.map((consumers) => fetchKey({ receiver, consumers }));
      out.push(
        `${receiver.name} receiver, ${p.fetch.consumers.join(' and ')} consumers: ` +
          TRANSFER_MODES.map((mode) => `${mode} ${span(rk.map((k) => g('sluice', mode, k, 'mbPerS'))) ?? '—'}`).join(', ') +
          ' MB/s.',
      );
    }
  }
  const probed = fetchCells(p)
    .filter((c) => p.fetch.probeStreams.includes(c.consumers))
    .map(fetchKey);
  const vsRaw = TRANSFER_MODES.map((mode) => {
    const s = percent(probed.map((k) => ratio(g('sluice', mode, k, 'mbPerS'), g('probe', mode, k, 'mbPerS'))));
    return s === null ? null : `${mode} ${s}`;
  }).filter((s): s is string => s !== null);
  if (vsRaw.length > 0)
    out.push(`Against the raw transfer probe of the same mode, receiver and stream count (every fetch and fan-out cell with a probe): ${vsRaw.join(', ')}.`);
  return out;
}

function fanoutSentences(l: Lookup, p: Profile): string[] {
  if (!l.has('kafka')) return [];
  const receiver = RECEIVERS[0]!;
  const keys = p.fetch.fanout.map((consumers) => fetchKey({ receiver, consumers }));
  const out: string[] = [];
  const g = (target: 'sluice' | 'kafka', mode: string, k: Record<string, string | number>, m: keyof Metrics) => l.get('fetch', target, mode, k, m);
  if (!keys.some((k) => g('kafka', 'kafka', k, 'mbPerS') !== null)) return out;
  const modes = [...TRANSFER_MODES, ...WRITER_COMPARISONS.map((c) => c.mode)].filter((m) => keys.some((k) => g('sluice', m, k, 'mbPerS') !== null));
  const parts = modes.map((mode) => {
    const mb = times(keys.map((k) => ratio(g('sluice', mode, k, 'mbPerS'), g('kafka', 'kafka', k, 'mbPerS'))));
    const cpu = times(keys.map((k) => ratio(g('sluice', mode, k, 'cpuSPerGB'), g('kafka', 'kafka', k, 'cpuSPerGB'))));
    return `${mode} ${mb ?? '—'} the MB/s at ${cpu ?? '—'} the CPU per GB`;
  });
  out.push(`Fan-out (${p.fetch.fanout.join(', ')} consumers, ${receiver.name}), Sluice ÷ Kafka over every consumer count: ${parts.join('; ')}.`);
  // Issue 21's fan-out goal, sendfile in the default configuration: ≥ 1.0× Kafka's MB/s at ≤ its CPU per GB.
  const verdicts = keys.map((k, i) => {
    const mb = ratio(g('sluice', 'sendfile', k, 'mbPerS'), g('kafka', 'kafka', k, 'mbPerS'));
    const cpu = ratio(g('sluice', 'sendfile', k, 'cpuSPerGB'), g('kafka', 'kafka', k, 'cpuSPerGB'));
    const met = mb !== null && cpu !== null && mb >= 1 && cpu <= 1;
    return `×${p.fetch.fanout[i]} ${mb === null || cpu === null ? 'not measured' : `${met ? 'met' : 'MISSED'} (${x2(mb)} MB/s, ${x2(cpu)} CPU)`}`;
  });
  out.push(`Fan-out goal (sendfile ≥ 1.0× Kafka's MB/s at ≤ its CPU per GB): ${verdicts.join(', ')}.`);
  return out;
}

function produceSentences(l: Lookup, p: Profile): string[] {
  const out: string[] = [];
  const g = (target: 'sluice' | 'kafka' | 'probe', mode: string, key: Record<string, string | number>, m: keyof Metrics) =>
    l.get('produce', target, mode, key, m);
  if (!p.produce.cells.some((c) => APPEND_MODES.some((mode) => g('sluice', mode, produceKey(c), 'mbPerS') !== null))) return out;
  for (const batch of [...new Set(p.produce.cells.map((c) => c.batchBytes))]) {
    const keys = p.produce.cells.filter((c) => c.batchBytes === batch).map(produceKey);
    const label = cellLabel(p.produce.cells.find((c) => c.batchBytes === batch)!).split('/')[1];
    const modes = APPEND_MODES.map(
      (mode) =>
        `${mode} ${span(keys.map((k) => g('sluice', mode, k, 'mbPerS'))) ?? '—'} MB/s at ${span(keys.map((k) => g('sluice', mode, k, 'cpuSPerGB'))) ?? '—'} CPU s/GB`,
    );
    out.push(`Produce, ${label} batches (both acks, both record sizes, one connection): ${modes.join('; ')}.`);
  }
  const rawWrite = g('probe', 'write', {}, 'mbPerS');
  if (rawWrite !== null) {
    const big = p.produce.cells.filter((c) => c.batchBytes >= 1024 * 1024).map(produceKey);
    out.push(
      `The raw write() probe (one thread, 1 MiB write()s into one new file) gave ${fmt(rawWrite)} MB/s, median; Sluice's 1 MiB-batch cells are ` +
        `${percent(big.flatMap((k) => APPEND_MODES.map((mode) => ratio(g('sluice', mode, k, 'mbPerS'), rawWrite))))} of it. It is a reference, not a ceiling: what it measures depends on page reclaim and writeback at that moment (bench/README.md, raw probes).`,
    );
  }
  if (!l.has('kafka')) return out;
  const conn = (p.produce.connectionCells ?? []).filter((c) => l.get('produce', 'kafka', 'kafka', produceKey(c), 'mbPerS') !== null);
  if (conn.length === 0) {
    out.push(
      'This run has no produce cells with more than one connection, so it states no Sluice ÷ Kafka produce ratio: on one connection Sluice pipelines requests and Kafka reads one at a time (table 2 has the one-connection cells).',
    );
    return out;
  }
  const keys = conn.map(produceKey);
  const n = conn[0]!.connections;
  out.push(
    `Against Apache Kafka over ${n} connections (${conn.map((c) => cellLabel(c)).join(', ')}): Sluice pwrite ` +
      `${times(keys.map((k) => ratio(g('sluice', 'pwrite', k, 'mbPerS'), g('kafka', 'kafka', k, 'mbPerS'))))} Kafka's MB/s at ` +
      `${times(keys.map((k) => ratio(g('sluice', 'pwrite', k, 'cpuSPerGB'), g('kafka', 'kafka', k, 'cpuSPerGB'))))} its CPU per GB, produce p99 ` +
      `${times(keys.map((k) => ratio(g('sluice', 'pwrite', k, 'produceP99Us'), g('kafka', 'kafka', k, 'produceP99Us'))))}.`,
  );
  const one = p.produce.cells.map(produceKey);
  out.push(
    `On one connection (Sluice pipelining, Kafka one request at a time) Sluice pwrite made ${times(one.map((k) => ratio(g('sluice', 'pwrite', k, 'mbPerS'), g('kafka', 'kafka', k, 'mbPerS'))))} Kafka's MB/s.`,
  );
  return out;
}

function e2eSentences(l: Lookup, p: Profile): string[] {
  const out: string[] = [];
  const base = produceKey(p.e2e.base);
  const targets: Array<{ target: 'sluice' | 'kafka'; mode: string }> = [
    ...APPEND_MODES.map((mode) => ({ target: 'sluice' as const, mode })),
    ...(l.has('kafka') ? [{ target: 'kafka' as const, mode: 'kafka' }] : []),
  ];
  const loads = e2eLoads(p);
  const shared = loads.filter((x) => x.of === 'shared');
  const full = shared.map((x) => {
    const offered = median(targets.map((t) => l.get('e2e', t.target, t.mode, e2eKey(x), 'targetMbPerS')).filter((v): v is number => v !== null));
    return offered === null ? null : (offered * 100) / x.pct;
  });
  const sharedMax = median(full.filter((v): v is number => v !== null));
  if (sharedMax === null) return out;
  const ownShare = targets.map((t) => {
    const own = l.get('produce', t.target, t.mode, base, 'mbPerS');
    return `${t.mode} ${own === null ? '—' : pct(sharedMax / own)} (own maximum ${fmt(own)} MB/s)`;
  });
  out.push(`End to end, the shared 100% was ${fmt(sharedMax)} MB/s, which is of each broker's own produce maximum: ${ownShare.join(', ')}.`);
  const p99 = (t: { target: 'sluice' | 'kafka'; mode: string }, ls: typeof loads) =>
    span(
      ls.map((x) => l.get('e2e', t.target, t.mode, e2eKey(x), 'e2eP99Us')),
      msOf,
    );
  out.push(
    `e2e p99 at ${shared.map((x) => `${x.pct}%`).join('/')} of the shared rate: ${targets.map((t) => `${t.mode} ${p99(t, shared) ?? '—'} ms`).join(', ')}.`,
  );
  for (const own of loads.filter((x) => x.of === 'own')) {
    const parts = targets
      .map((t) => {
        const k = e2eKey(own);
        const v = l.get('e2e', t.target, t.mode, k, 'e2eP99Us');
        return v === null ? null : `${t.mode} ${msOf(v)} ms at ${fmt(l.get('e2e', t.target, t.mode, k, 'targetMbPerS'))} MB/s`;
      })
      .filter((s): s is string => s !== null);
    if (parts.length > 0) out.push(`e2e p99 at ${own.pct}% of each broker's own maximum: ${parts.join(', ')}.`);
  }
  return out;
}

/** Issue 21's start and memory goals. */
export const START_GOAL_MS = 300;
export const IDLE_RSS_GOAL_MIB = 100;

function startupSentences(samples: readonly StartupSample[]): string[] {
  if (samples.length === 0) return [];
  const of = (t: 'sluice' | 'kafka') => samples.filter((s) => s.target === t);
  const describe = (t: 'sluice' | 'kafka') => {
    const s = of(t);
    if (s.length === 0) return null;
    const ready = s.map((x) => x.readyMs);
    const rss = s.map((x) => x.idleRssKb / 1024);
    return `${s[0]!.label}: ready ${fmt(median(ready))} ms (${span(ready)}), idle RSS ${fmt(median(rss))} MiB (${span(rss)})`;
  };
  const out = [`Start to ready and idle RSS, median (min–max): ${[describe('sluice'), describe('kafka')].filter((x) => x !== null).join('; ')}.`];
  const sl = of('sluice');
  if (sl.length > 0) {
    const ready = median(sl.map((x) => x.readyMs))!;
    const rss = median(sl.map((x) => x.idleRssKb / 1024))!;
    out.push(
      `Goals: start < ${START_GOAL_MS} ms ${ready < START_GOAL_MS ? 'met' : 'MISSED'} (${fmt(ready)} ms); idle RSS < ${IDLE_RSS_GOAL_MIB} MiB ${rss < IDLE_RSS_GOAL_MIB ? 'met' : 'MISSED'} (${fmt(rss)} MiB).`,
    );
  }
  return out;
}

function targetSentences(l: Lookup, p: Profile): string[] {
  const checks = targetChecks(l, p).filter((t) => t.value !== null);
  if (checks.length === 0) return [];
  const missed = checks.filter((c) => c.met === false);
  const head = `Targets: ${checks.length - missed.length} of ${checks.length} met`;
  return [
    missed.length === 0 ? `${head}.` : `${head}; MISSED: ${missed.map((c) => `${c.what} ${(c.value! * 100).toFixed(1)}% (goal ≥ ${pct(c.goal)})`).join('; ')}.`,
  ];
}

/** Every summary sentence for a run, grouped by scenario (empty groups left out). */
export function summarize(l: Lookup, p: Profile, startup: readonly StartupSample[]): Array<{ heading: string; sentences: string[] }> {
  return [
    { heading: 'Targets', sentences: targetSentences(l, p) },
    { heading: 'Fetch', sentences: fetchSentences(l, p) },
    { heading: 'Fan-out', sentences: fanoutSentences(l, p) },
    { heading: 'Produce', sentences: produceSentences(l, p) },
    { heading: 'End to end', sentences: e2eSentences(l, p) },
    { heading: 'Start and memory', sentences: startupSentences(startup) },
  ].filter((g) => g.sentences.length > 0);
}

// The tables printed at the end of a run, built from the recorded cells (medians over
// repetitions), with the ratios the issue asks for: zero-copy ÷ copy, Sluice ÷ raw limit,
// mmap ÷ pwrite, Sluice ÷ Kafka. Also the targets, stated as met or missed with their numbers.

import type { Profile } from '../profile.ts';
import { RECEIVERS } from '../profile.ts';
import { type Cell, type Metrics, type Selector, med, select } from '../results.ts';
import { WRITER_COMPARISONS, fetchKey } from '../scenarios/fetch.ts';
import { SESSION_STATES } from '../scenarios/sessions.ts';
import { PROBE_FOR, cellLabel, e2eKey, e2eLoads, produceKey } from '../scenarios/produce.ts';
import { IDLE_CONNECTIONS, IDLE_PARTITIONS, type StartupSample, startupGoalChecks } from '../scenarios/startup.ts';
import { APPEND_MODES, TRANSFER_MODES } from '../sluice.ts';
import { fmt, fmtPct, fmtRatio, median, ratio, sizeLabel } from '../units.ts';
import type { Table } from './table.ts';

type Key = Record<string, string | number>;

export class Lookup {
  private readonly cells: readonly Cell[];
  constructor(cells: readonly Cell[]) {
    this.cells = cells;
  }

  get(scenario: Selector['scenario'], target: Selector['target'], mode: string, key: Key, metric: keyof Metrics): number | null {
    return med(this.cells, { scenario, target, mode, key }, metric);
  }

  /** Lowest and highest value of one metric over the repetitions; null when none has it. */
  range(scenario: Selector['scenario'], target: Selector['target'], mode: string, key: Key, metric: keyof Metrics): [number, number] | null {
    const v = select(this.cells, { scenario, target, mode, key })
      .map((c) => c.metrics[metric])
      .filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return v.length === 0 ? null : [Math.min(...v), Math.max(...v)];
  }

  /** Whether any cell has this target (and, given, this mode). */
  has(target: Selector['target'], mode?: string): boolean {
    return this.cells.some((c) => c.target === target && (mode === undefined || c.mode === mode));
  }
}

const ms = (us: number | null) => (us === null ? null : us / 1000);

/** "2,510–2,790": the lowest and highest repetition, beside every median the tables print. */
export function fmtRange(r: [number, number] | null, scale = 1): string {
  return r === null ? '—' : `${fmt(r[0] * scale)}–${fmt(r[1] * scale)}`;
}

export function fetchTable(l: Lookup, p: Profile): Table {
  const kafka = l.has('kafka');
  const columns = [
    'receiver',
    'consumers',
    'path',
    'MB/s',
    'MB/s min–max',
    'raw MB/s',
    '÷raw',
    'CPU s/GB',
    'raw CPU s/GB',
    'ctx sw/GB',
    'syscalls/GB',
    'B/send',
    'MB/s ÷copy',
    'CPU ÷copy',
  ];
  if (kafka) columns.push('MB/s ÷kafka', 'CPU ÷kafka');
  const rows: string[][] = [];
  for (const receiver of RECEIVERS) {
    for (const consumers of p.fetch.consumers) {
      const key = fetchKey({ receiver, consumers });
      const g = (target: 'sluice' | 'kafka' | 'probe', mode: string, m: keyof Metrics) => l.get('fetch', target, mode, key, m);
      const kMb = g('kafka', 'kafka', 'mbPerS');
      const kCpu = g('kafka', 'kafka', 'cpuSPerGB');
      for (const mode of TRANSFER_MODES) {
        const mb = g('sluice', mode, 'mbPerS');
        const cpu = g('sluice', mode, 'cpuSPerGB');
        const raw = g('probe', mode, 'mbPerS');
        const row = [
          receiver.name,
          String(consumers),
          mode,
          fmt(mb),
          fmtRange(l.range('fetch', 'sluice', mode, key, 'mbPerS')),
          fmt(raw),
          fmtPct(ratio(mb, raw)),
          fmt(cpu),
          fmt(g('probe', mode, 'cpuSPerGB')),
          fmt(g('sluice', mode, 'ctxPerGB')),
          fmt(g('sluice', mode, 'syscallsPerGB')),
          fmt(g('sluice', mode, 'bytesPerSend')),
          mode === 'copy' ? '' : fmtRatio(ratio(mb, g('sluice', 'copy', 'mbPerS'))),
          mode === 'copy' ? '' : fmtRatio(ratio(cpu, g('sluice', 'copy', 'cpuSPerGB'))),
        ];
        if (kafka) row.push(fmtRatio(ratio(mb, kMb)), fmtRatio(ratio(cpu, kCpu)));
        rows.push(row);
      }
      if (kafka) {
        // Kafka sends plaintext fetch data with sendfile (FileChannel.transferTo): its raw limit
        // is the sendfile probe's.
        const rawSendfile = g('probe', 'sendfile', 'mbPerS');
        rows.push([
          receiver.name,
          String(consumers),
          'kafka',
          fmt(kMb),
          fmtRange(l.range('fetch', 'kafka', 'kafka', key, 'mbPerS')),
          fmt(rawSendfile),
          fmtPct(ratio(kMb, rawSendfile)),
          fmt(kCpu),
          fmt(g('probe', 'sendfile', 'cpuSPerGB')),
          fmt(g('kafka', 'kafka', 'ctxPerGB')),
          fmt(g('kafka', 'kafka', 'syscallsPerGB')),
          fmt(g('kafka', 'kafka', 'bytesPerSend')),
          '',
          '',
          '',
          '',
        ]);
      }
    }
  }
  return {
    title: '1. Fetch from page cache (consumers re-read the same hot partitions)',
    notes: [
      `${sizeLabel(p.fetch.dataBytes)} in ${p.partitions} partitions, ${sizeLabel(p.fetch.partitionMaxBytes)} per partition per fetch; MB/s = 10^6 B/s received by all consumers.`,
      'raw = plain sendfile / splice / read+write probe of the same file size, receiver and stream count, measured in the same run.',
      "CPU s/GB = broker process user+sys per GB sent (raw: the probe's sending threads). ctx sw, syscalls per GB: broker process.",
      'B/send = bytes sent per socket-writing syscall of the broker (sendfile, send, write, the pipe→socket splice), from perf.',
      ...RECEIVERS.map((r) => `${r.name}: ${r.describe}.`),
    ],
    columns,
    labelColumns: 3,
    rows,
  };
}

export function fanoutTable(l: Lookup, p: Profile): Table {
  const kafka = l.has('kafka');
  const receiver = RECEIVERS[0]!;
  const columns = ['path', 'consumers', 'total MB/s', 'MB/s min–max', 'CPU s/GB', 'ctx sw/GB', 'syscalls/GB', 'raw MB/s', '÷raw', 'CPU ÷copy'];
  if (kafka) columns.push('MB/s ÷kafka', 'CPU ÷kafka');
  const rows: string[][] = [];
  const comparisons = WRITER_COMPARISONS.filter((c) => l.has('sluice', c.mode));
  const comparisonModes = new Set(comparisons.map((c) => c.mode));
  const modes: string[] = [...TRANSFER_MODES, ...comparisonModes, ...(kafka ? ['kafka'] : [])];
  for (const mode of modes) {
    const target = mode === 'kafka' ? 'kafka' : 'sluice';
    for (const consumers of p.fetch.fanout) {
      const key = fetchKey({ receiver, consumers });
      const mb = l.get('fetch', target, mode, key, 'mbPerS');
      const cpu = l.get('fetch', target, mode, key, 'cpuSPerGB');
      const raw = target === 'sluice' ? l.get('fetch', 'probe', comparisonModes.has(mode) ? 'sendfile' : mode, key, 'mbPerS') : null;
      const row = [
        mode,
        String(consumers),
        fmt(mb),
        fmtRange(l.range('fetch', target, mode, key, 'mbPerS')),
        fmt(cpu),
        fmt(l.get('fetch', target, mode, key, 'ctxPerGB')),
        fmt(l.get('fetch', target, mode, key, 'syscallsPerGB')),
        fmt(raw),
        fmtPct(ratio(mb, raw)),
        target === 'sluice' && mode !== 'copy' ? fmtRatio(ratio(cpu, l.get('fetch', 'sluice', 'copy', key, 'cpuSPerGB'))) : '',
      ];
      if (kafka) {
        row.push(
          target === 'sluice' ? fmtRatio(ratio(mb, l.get('fetch', 'kafka', 'kafka', key, 'mbPerS'))) : '',
          target === 'sluice' ? fmtRatio(ratio(cpu, l.get('fetch', 'kafka', 'kafka', key, 'cpuSPerGB'))) : '',
        );
      }
      rows.push(row);
    }
  }
  return {
    title: '4. Fan-out: N consumers reading the same hot data',
    notes: [
      `Receiver ${receiver.name}. raw = as many probe streams as consumers (— where the profile runs no such probe), sent from one thread per core with Sluice's default send buffer.`,
      ...comparisons.map((c) => `${c.mode}: ${c.describe}, same run; its raw is the sendfile probe.`),
    ],
    columns,
    labelColumns: 2,
    rows,
  };
}

export function produceTable(l: Lookup, p: Profile): Table {
  const kafka = l.has('kafka');
  const rawWrite = l.get('produce', 'probe', 'write', {}, 'mbPerS');
  const rawMmap = l.get('produce', 'probe', 'mmap', {}, 'mbPerS');
  const columns = [
    'cell',
    'append',
    'MB/s',
    'MB/s min–max',
    'records/s',
    'CPU s/GB',
    'p50 ms',
    'p99 ms',
    'p99.9 ms',
    'ctx sw/GB',
    'syscalls/GB',
    'writeback/B',
    '÷raw write()',
    'mmap ÷pwrite',
  ];
  if (kafka) columns.push('MB/s ÷kafka', 'CPU ÷kafka', 'p99 ÷kafka');
  const rows: string[][] = [];
  const cells = [...p.produce.cells, ...(p.produce.connectionCells ?? [])];
  for (const c of cells) {
    const key = produceKey(c);
    // The connection cells run in the default append mode only (and on Kafka).
    const appendModes = c.connections === undefined ? APPEND_MODES : APPEND_MODES.filter((m) => m === 'pwrite');
    const modes: string[] = [...appendModes, ...(kafka ? ['kafka'] : [])];
    if (!modes.some((mode) => l.get('produce', mode === 'kafka' ? 'kafka' : 'sluice', mode, key, 'mbPerS') !== null)) continue;
    for (const mode of modes) {
      const target = mode === 'kafka' ? 'kafka' : 'sluice';
      const g = (m: keyof Metrics) => l.get('produce', target, mode, key, m);
      const mb = g('mbPerS');
      const row = [
        cellLabel(c),
        mode,
        fmt(mb),
        fmtRange(l.range('produce', target, mode, key, 'mbPerS')),
        fmt(g('recordsPerS')),
        fmt(g('cpuSPerGB')),
        fmt(ms(g('produceP50Us'))),
        fmt(ms(g('produceP99Us'))),
        fmt(ms(g('produceP999Us'))),
        fmt(g('ctxPerGB')),
        fmt(g('syscallsPerGB')),
        fmt(g('writebackPerByte')),
        fmtPct(ratio(mb, rawWrite)),
        mode === 'mmap' ? fmtRatio(ratio(mb, l.get('produce', 'sluice', 'pwrite', key, 'mbPerS'))) : '',
      ];
      if (kafka) {
        const k = (m: keyof Metrics) => l.get('produce', 'kafka', 'kafka', key, m);
        row.push(
          target === 'sluice' ? fmtRatio(ratio(mb, k('mbPerS'))) : '',
          target === 'sluice' ? fmtRatio(ratio(g('cpuSPerGB'), k('cpuSPerGB'))) : '',
          target === 'sluice' ? fmtRatio(ratio(g('produceP99Us'), k('produceP99Us'))) : '',
        );
      }
      rows.push(row);
    }
  }
  return {
    title: '2. Produce: mmap vs pwrite append, one and four connections',
    notes: [
      `Raw references measured in this run (not ceilings: the broker can beat them): write() of 1 MiB chunks from one thread into one new file ${fmt(rawWrite)} MB/s (${fmt(l.get('produce', 'probe', 'write', {}, 'cpuSPerGB'))} CPU s/GB);` +
        ` the same through a mapping extended by fallocate (${PROBE_FOR.mmap}) ${fmt(rawMmap)} MB/s (${fmt(l.get('produce', 'probe', 'mmap', {}, 'cpuSPerGB'))} CPU s/GB).` +
        ' Both pay for page allocation, reclaim and writeback as the machine stands at that moment' +
        ` (write() probe, per byte appended: ${fmt(l.get('produce', 'probe', 'write', {}, 'writebackPerByte'))} written back, ${fmt(l.get('produce', 'probe', 'write', {}, 'reclaimPerByte'))} reclaimed).`,
      'writeback/B: bytes the page cache wrote back to disk during the window per byte appended (machine-wide, /proc/vmstat): > 0 means the cell also paid for writeback.',
      `${p.partitions} partitions, ${p.produce.connections} connection unless "×N conn", ${p.produce.inFlight} requests in flight per connection, one batch per request; MB/s counts batch bytes acknowledged.`,
      'Sluice pipelines up to queued.max.requests requests per connection; Kafka reads one request per connection at a time (its queued.max.requests bounds a broker-wide queue): compare brokers on the ×4 conn cells.',
      'Latency: request written → response read, by the load generator. CPU, ctx sw, syscalls: broker process per GB appended.',
    ],
    columns,
    labelColumns: 2,
    rows,
  };
}

export function e2eTable(l: Lookup, p: Profile): Table {
  const kafka = l.has('kafka');
  const columns = ['append', 'load', 'offered MB/s', '% of own max', 'MB/s', 'e2e p50 ms', 'e2e p99 ms', 'p99 min–max', 'e2e p99.9 ms', 'produce p99 ms'];
  if (kafka) columns.push('p50 ÷kafka', 'p99 ÷kafka', 'p99.9 ÷kafka');
  const rows: string[][] = [];
  const modes: string[] = [...APPEND_MODES, ...(kafka ? ['kafka'] : [])];
  const base = produceKey(p.e2e.base);
  for (const mode of modes) {
    const target = mode === 'kafka' ? 'kafka' : 'sluice';
    const ownMax = l.get('produce', target, mode, base, 'mbPerS');
    for (const load of e2eLoads(p)) {
      const key = e2eKey(load);
      const g = (m: keyof Metrics) => l.get('e2e', target, mode, key, m);
      if (g('mbPerS') === null && load.of === 'own') continue;
      const offered = g('targetMbPerS');
      const row = [
        mode,
        `${load.pct}% ${load.of}`,
        fmt(offered),
        fmtPct(ratio(offered, ownMax)),
        fmt(g('mbPerS')),
        fmt(ms(g('e2eP50Us'))),
        fmt(ms(g('e2eP99Us'))),
        fmtRange(l.range('e2e', target, mode, key, 'e2eP99Us'), 1 / 1000),
        fmt(ms(g('e2eP999Us'))),
        fmt(ms(g('produceP99Us'))),
      ];
      if (kafka) {
        const k = (m: keyof Metrics) => l.get('e2e', 'kafka', 'kafka', key, m);
        for (const m of ['e2eP50Us', 'e2eP99Us', 'e2eP999Us'] as const) row.push(target === 'sluice' ? fmtRatio(ratio(g(m), k(m))) : '');
      }
      rows.push(row);
    }
  }
  const b = p.e2e.base;
  return {
    title: '3. End-to-end latency (produce → consumer receives) at a fraction of the maximum rate',
    notes: [
      `shared: a percentage of the lowest median MB/s of all brokers and modes for ${cellLabel(b)} in table 2 (one offered load for all); own: of that broker's (and mode's) own maximum.`,
      `% of own max: the offered load as a share of the broker's own maximum. One consumer tails the topic (max.wait.ms ${p.e2e.maxWaitMs}).`,
      'The producer is paced open-loop; latency runs from when a batch was due, so stalls are not hidden. ÷kafka compares cells of the same load label.',
    ],
    columns,
    labelColumns: 2,
    rows,
  };
}

export function sessionsTable(l: Lookup, p: Profile): Table {
  const columns = [
    'state',
    'fetches/s full',
    'fetches/s sessions',
    'CPU µs/fetch full',
    'CPU µs/fetch sessions',
    'CPU/fetch ÷full',
    'MB/s full',
    'MB/s sessions',
    'CPU s/GB full',
    'CPU s/GB sessions',
  ];
  const rows = SESSION_STATES.map((state) => {
    const g = (mode: string, m: keyof Metrics) => l.get('sessions', 'sluice', mode, { state }, m);
    const perFetch = (mode: string) => g(mode, 'brokerCpuUsPerFetch');
    const bytes = state === 'read';
    return [
      state,
      fmt(g('full', 'fetchesPerS')),
      fmt(g('sessions', 'fetchesPerS')),
      fmt(perFetch('full')),
      fmt(perFetch('sessions')),
      fmtRatio(ratio(perFetch('sessions'), perFetch('full'))),
      bytes ? fmt(g('full', 'mbPerS')) : '',
      bytes ? fmt(g('sessions', 'mbPerS')) : '',
      bytes ? fmt(g('full', 'cpuSPerGB')) : '',
      bytes ? fmt(g('sessions', 'cpuSPerGB')) : '',
    ];
  });
  return {
    title: `6. Fetch sessions (KIP-227): one consumer of ${p.sessions.partitions} partitions, full requests vs an incremental session`,
    notes: [
      'idle: at the log end, max.wait.ms 0 (every request answered at once, empty); read: re-reading from the start, every answer with records.',
      'CPU µs/fetch = broker process user+sys per fetch request answered; full = every partition in every request (session id 0, epoch -1).',
      `${sizeLabel(p.sessions.dataBytes)} in ${p.sessions.partitions} partitions, ${sizeLabel(p.sessions.partitionMaxBytes)} per partition per fetch. Same broker, alternating order.`,
    ],
    columns,
    labelColumns: 1,
    rows,
  };
}

export function startupTable(samples: readonly StartupSample[]): Table {
  const rows: string[][] = [];
  const mib = (xs: readonly (number | null)[]) => median(xs.filter((x): x is number => x !== null).map((kb) => kb / 1024));
  const stats = (t: 'sluice' | 'kafka') => {
    const s = samples.filter((x) => x.target === t);
    const ready = s.map((x) => x.readyMs);
    const rss = s.map((x) => x.idleRssKb / 1024);
    const range = (v: number[]): [number, number] | null => (v.length === 0 ? null : [Math.min(...v), Math.max(...v)]);
    return {
      label: s[0]?.label ?? t,
      ready: median(ready),
      rss: median(rss),
      readyRange: range(ready),
      rssRange: range(rss),
      conns: mib(s.map((x) => x.idleConnectionsRssKb)),
      parts: mib(s.map((x) => x.idlePartitionsRssKb)),
      n: s.length,
    };
  };
  const sl = stats('sluice');
  const kf = stats('kafka');
  rows.push([sl.label, fmt(sl.ready), fmtRange(sl.readyRange), fmt(sl.rss), fmtRange(sl.rssRange), fmt(sl.conns), fmt(sl.parts)]);
  if (kf.n > 0) {
    rows.push([kf.label, fmt(kf.ready), fmtRange(kf.readyRange), fmt(kf.rss), fmtRange(kf.rssRange), fmt(kf.conns), fmt(kf.parts)]);
    rows.push([
      'sluice ÷ kafka',
      fmtRatio(ratio(sl.ready, kf.ready)),
      '',
      fmtRatio(ratio(sl.rss, kf.rss)),
      '',
      fmtRatio(ratio(sl.conns, kf.conns)),
      fmtRatio(ratio(sl.parts, kf.parts)),
    ]);
  }
  for (const c of startupGoalChecks(samples))
    rows.push([c.what, c.value === null ? 'not measured' : fmt(c.value), c.met === null ? '' : c.met ? 'met' : 'MISSED', '', '']);
  return {
    title: '5. Start to ready, idle RSS',
    notes: [
      'Ready = spawn → first answered ApiVersions + Metadata, empty data dir. Idle RSS after a quiet period, read from the broker process (node or java) itself.',
      `Sluice in its default configuration (sendfile, pwrite appends, metrics endpoint on, log level info). ${IDLE_CONNECTIONS} idle connections: each sent one ApiVersions, then silent (same broker). ${IDLE_PARTITIONS} idle partitions: one topic, a second broker. Medians; each broker started once unmeasured first.`,
    ],
    columns: [
      'broker',
      'ready ms',
      'ready min–max',
      'idle RSS MiB',
      'RSS min–max',
      `RSS, ${IDLE_CONNECTIONS} idle conns, MiB`,
      `RSS, ${IDLE_PARTITIONS} idle partitions, MiB`,
    ],
    labelColumns: 1,
    rows,
  };
}

export interface TargetCheck {
  what: string;
  value: number | null;
  goal: number;
  met: boolean | null;
}

/** The targets, computed from this run's numbers (never adjusted). */
export function targetChecks(l: Lookup, p: Profile): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const receiver of RECEIVERS) {
    for (const consumers of p.fetch.consumers.filter((n) => p.fetch.probeStreams.includes(n))) {
      const key = fetchKey({ receiver, consumers });
      for (const mode of TRANSFER_MODES) {
        const r = ratio(l.get('fetch', 'sluice', mode, key, 'mbPerS'), l.get('fetch', 'probe', mode, key, 'mbPerS'));
        out.push({ what: `fetch ${mode} ${receiver.name} ×${consumers} vs raw ${mode}`, value: r, goal: 0.9, met: r === null ? null : r >= 0.9 });
      }
    }
  }
  const rawWrite = l.get('produce', 'probe', 'write', {}, 'mbPerS');
  for (const c of p.produce.cells.filter((x) => x.batchBytes >= 1024 * 1024)) {
    for (const mode of APPEND_MODES) {
      const r = ratio(l.get('produce', 'sluice', mode, produceKey(c), 'mbPerS'), rawWrite);
      out.push({
        what: `produce ${mode} ${cellLabel(c)} vs raw write() (a one-thread reference, not a ceiling)`,
        value: r,
        goal: 0.5,
        met: r === null ? null : r >= 0.5,
      });
    }
  }
  return out;
}

export function targetsTable(checks: readonly TargetCheck[]): Table {
  return {
    title: 'Targets (reported, not tuned for): fetch ≥ 90% of the raw probe of the same mode and receiver; produce at 1 MiB batches ≥ 50% of raw write()',
    notes: [],
    columns: ['target', 'measured', 'goal', 'result'],
    labelColumns: 1,
    rows: checks.map((c) => [c.what, fmtPct(c.value), `≥ ${fmtPct(c.goal)}`, c.met === null ? 'not measured' : c.met ? 'met' : 'MISSED']),
  };
}

// The run's record: every measured cell with its raw loadgen output, the broker's window and
// the figures derived from them, and the medians over repetitions that the tables print.

import type { BrokerWindow, Observation } from './measure.ts';
import type { MemoryWindow } from './vmstat.ts';
import { median } from './units.ts';

export type Scenario = 'fetch' | 'produce' | 'e2e' | 'sessions' | 'tls' | 'txn' | 'cold';
/** sluice and kafka are brokers; probe is a raw loadgen probe with no broker. */
export type Target = 'sluice' | 'kafka' | 'probe';

/** Derived figures; absent when the cell type does not have them. */
export interface Metrics {
  mbPerS: number;
  recordsPerS?: number;
  /** Broker CPU (user+sys) per GB moved; for probes, the sending (or appending) thread's. */
  cpuSPerGB?: number;
  cpuUserSPerGB?: number;
  cpuSysSPerGB?: number;
  /** Voluntary + involuntary context switches per GB (broker, or the probe's sending thread). */
  ctxPerGB?: number;
  syscallsPerGB?: number;
  /** Fetch: bytes sent per socket-writing syscall of the broker (sendfile, send*, write*, and
   * the pipe-to-socket half of the splices), from perf. */
  bytesPerSend?: number;
  /** Receiver side: read() calls per GB and the load generator's own CPU per GB. */
  readsPerGB?: number;
  clientCpuSPerGB?: number;
  /** Latencies in microseconds. */
  produceP50Us?: number;
  produceP99Us?: number;
  produceP999Us?: number;
  e2eP50Us?: number;
  e2eP99Us?: number;
  e2eP999Us?: number;
  targetMbPerS?: number;
  /** Fetch sessions scenario: fetch requests answered per second, and broker CPU per request. */
  fetchesPerS?: number;
  brokerCpuUsPerFetch?: number;
  /** Produce and append probes: bytes the page cache wrote back to disk, and reclaimed, during the
   * window per byte appended (machine-wide /proc/vmstat; see vmstat.ts). */
  writebackPerByte?: number;
  reclaimPerByte?: number;
  /** Transactional produce: committed transactions per second and EndTxn latency. */
  txnPerS?: number;
  commitP50Us?: number;
  commitP99Us?: number;
  /** Cold reader scenario: the MB/s of the consumer reading dropped pages. */
  coldMbPerS?: number;
}

export interface Cell {
  scenario: Scenario;
  target: Target;
  /** Sluice: the transfer or append mode; kafka: "kafka"; probe: the probe's mode. */
  mode: string;
  /** What identifies the cell besides mode, e.g. { receiver, consumers } or { acks, recordBytes, batchBytes }. */
  key: Record<string, string | number>;
  rep: number;
  metrics: Metrics;
  broker: BrokerWindow | null;
  syscallsNote: string | null;
  client: any;
  /** The kernel's writeback and reclaim during the window (absent in older result files). */
  memory?: MemoryWindow | null;
}

const GB = 1e9;

function perGB(value: number | undefined | null, bytes: number): number | undefined {
  if (value === undefined || value === null || bytes <= 0) return undefined;
  return value / (bytes / GB);
}

/** Socket-writing syscalls in a perf count: every splice pair moves data file → pipe → socket,
 * so half of them write to the socket. */
export function socketWrites(s: Record<string, number>): number {
  const n = (k: string) => s[k] ?? 0;
  return n('sendfile64') + n('sendto') + n('sendmsg') + n('write') + n('writev') + n('splice') / 2;
}

function brokerMetrics(b: BrokerWindow | null, bytes: number, sending = false): Partial<Metrics> {
  if (b === null) return {};
  const m: Partial<Metrics> = {
    cpuSPerGB: perGB(b.cpuS, bytes),
    cpuUserSPerGB: perGB(b.cpuUserS, bytes),
    cpuSysSPerGB: perGB(b.cpuSysS, bytes),
    ctxPerGB: perGB(b.voluntaryCtxt + b.involuntaryCtxt, bytes),
  };
  if (b.syscalls?.total !== undefined) m.syscallsPerGB = perGB(b.syscalls.total, bytes);
  if (sending && b.syscalls !== null && socketWrites(b.syscalls) > 0) m.bytesPerSend = bytes / socketWrites(b.syscalls);
  return m;
}

function clientCpu(client: any): number {
  return (client?.client?.cpu_user_s ?? 0) + (client?.client?.cpu_sys_s ?? 0);
}

/** Figures for a consume run (fetch and fan-out scenarios). */
export function fetchMetrics(o: Observation): Metrics {
  const c = o.client.consume;
  return {
    mbPerS: c.mb_per_s,
    recordsPerS: c.records_per_s,
    readsPerGB: perGB(c.read_calls, c.bytes),
    clientCpuSPerGB: perGB(clientCpu(o.client), c.bytes),
    ...brokerMetrics(o.broker, c.bytes, true),
  };
}

/** Figures for a fetch sessions run: a consume run's, plus requests per second and CPU per request. */
export function sessionMetrics(o: Observation): Metrics {
  const c = o.client.consume;
  const seconds = o.client.window_s ?? o.broker?.seconds ?? 0;
  return {
    ...fetchMetrics(o),
    fetchesPerS: seconds > 0 ? c.fetches / seconds : undefined,
    brokerCpuUsPerFetch: o.broker !== null && c.fetches > 0 ? (o.broker.cpuS / c.fetches) * 1e6 : undefined,
  };
}

export function produceMetrics(o: Observation): Metrics {
  const p = o.client.produce;
  return {
    mbPerS: p.mb_per_s,
    recordsPerS: p.records_per_s,
    produceP50Us: p.latency_us.p50_us,
    produceP99Us: p.latency_us.p99_us,
    produceP999Us: p.latency_us.p999_us,
    clientCpuSPerGB: perGB(clientCpu(o.client), p.bytes),
    ...memoryMetrics(o.memory, p.bytes),
    ...brokerMetrics(o.broker, p.bytes),
  };
}

function memoryMetrics(m: MemoryWindow | null | undefined, bytes: number): Partial<Metrics> {
  if (m === null || m === undefined || bytes <= 0) return {};
  return { writebackPerByte: m.writtenBackBytes / bytes, reclaimPerByte: m.reclaimedBytes / bytes };
}

export function e2eMetrics(o: Observation): Metrics {
  const p = o.client.produce;
  const e = o.client.consume.e2e_latency_us;
  return {
    mbPerS: p.mb_per_s,
    targetMbPerS: p.rate_mbps_target ?? undefined,
    recordsPerS: p.records_per_s,
    produceP50Us: p.latency_us.p50_us,
    produceP99Us: p.latency_us.p99_us,
    produceP999Us: p.latency_us.p999_us,
    e2eP50Us: e.p50_us,
    e2eP99Us: e.p99_us,
    e2eP999Us: e.p999_us,
    ...brokerMetrics(o.broker, p.bytes),
  };
}

function threadMetrics(t: any, bytes: number): Partial<Metrics> {
  return {
    cpuSPerGB: perGB(t.cpu_s, bytes),
    cpuUserSPerGB: perGB(t.cpu_user_s, bytes),
    cpuSysSPerGB: perGB(t.cpu_sys_s, bytes),
    ctxPerGB: perGB(t.voluntary_ctxt_switches + t.involuntary_ctxt_switches, bytes),
  };
}

export function transferProbeMetrics(j: any): Metrics {
  return { mbPerS: j.mb_per_s, readsPerGB: perGB(j.read_calls, j.bytes), ...threadMetrics(j.sender_thread, j.bytes) };
}

export function appendProbeMetrics(j: any, memory?: MemoryWindow | null): Metrics {
  return { mbPerS: j.mb_per_s, ...threadMetrics(j.thread, j.bytes), ...memoryMetrics(memory, j.bytes) };
}

function sameKey(a: Record<string, string | number>, b: Record<string, string | number>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export interface Selector {
  scenario: Scenario;
  target: Target;
  mode: string;
  key: Record<string, string | number>;
}

/** The cells of one (scenario, target, mode, key) over all repetitions. */
export function select(cells: readonly Cell[], s: Selector): Cell[] {
  return cells.filter((c) => c.scenario === s.scenario && c.target === s.target && c.mode === s.mode && sameKey(c.key, s.key));
}

/** Median of one metric over the selected cells' repetitions; null when none has it. */
export function med(cells: readonly Cell[], s: Selector, metric: keyof Metrics): number | null {
  const values = select(cells, s)
    .map((c) => c.metrics[metric])
    .filter((v): v is number => typeof v === 'number');
  return median(values);
}

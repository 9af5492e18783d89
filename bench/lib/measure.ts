// One measurement: a loadgen run against a broker, with the broker process sampled at the
// edges of loadgen's measured span (CPU, context switches, read/write syscall counts from
// /proc; all syscalls by name from perf when available) and its RSS polled inside the span.

import type { BrokerProcess } from './broker.ts';
import { runLoadgen } from './loadgen.ts';
import { type IoFields, type ProcSample, diffSamples, rssKb, sampleProcess } from './proc.ts';
import { SyscallCounter } from './syscalls.ts';
import { type MemoryWindow, type Vmstat, memoryWindow, readVmstat } from './vmstat.ts';

/** What the broker process did during the measured span. */
export interface BrokerWindow {
  seconds: number;
  cpuUserS: number;
  cpuSysS: number;
  cpuS: number;
  voluntaryCtxt: number;
  involuntaryCtxt: number;
  rssPeakKb: number;
  /** /proc/PID/io deltas (read/write-family calls and sendfile; not splice). */
  io: IoFields | null;
  /** perf counts by syscall name plus "total"; null when not counted. */
  syscalls: Record<string, number> | null;
}

export interface Observation {
  client: any;
  broker: BrokerWindow | null;
  /** Why syscalls are missing, when they are. */
  syscallsNote: string | null;
  /** The kernel's writeback and reclaim during the window (machine-wide). */
  memory?: MemoryWindow | null;
}

export interface ObserveOptions {
  /** perf events to count, or null to skip syscall counting. */
  syscallEvents: string[] | null;
  timeoutMs?: number;
}

const RSS_POLL_MS = 200;

export async function observe(broker: BrokerProcess | null, args: string[], opts: ObserveOptions): Promise<Observation> {
  const vm: { start: Vmstat | null; end: Vmstat | null } = { start: null, end: null };
  if (broker === null) {
    const client = await runLoadgen(args, { onMeasureStart: () => (vm.start = readVmstat()), onMeasureEnd: () => (vm.end = readVmstat()) }, opts.timeoutMs);
    return { client, broker: null, syscallsNote: null, memory: memoryWindow(vm.start, vm.end) };
  }
  const pid = broker.pid;
  let counter: SyscallCounter | null = null;
  let syscallsNote: string | null = opts.syscallEvents === null ? 'not counted (disabled)' : null;
  if (opts.syscallEvents !== null) {
    const c = await SyscallCounter.attach(pid, opts.syscallEvents);
    if (typeof c === 'string') syscallsNote = c;
    else counter = c;
  }
  // Filled in by the hooks (a holder, so the type checker does not narrow them to null).
  const edge: { start: ProcSample | null; end: ProcSample | null } = { start: null, end: null };
  let rssPeakKb = 0;
  let poll: NodeJS.Timeout | null = null;
  let enabled: Promise<boolean> = Promise.resolve(false);
  // perf takes a few hundred ms to exit; it is stopped as soon as the window closes, while
  // loadgen drains and exits, rather than after.
  let stopped: Promise<{ confirmed: boolean; counts: Record<string, number> }> | null = null;
  const pollRss = () => {
    try {
      rssPeakKb = Math.max(rssPeakKb, rssKb(pid));
    } catch {
      // The broker exited; loadgen will fail and say so.
    }
  };
  let client: any;
  try {
    client = await runLoadgen(
      args,
      {
        onMeasureStart: () => {
          if (counter !== null) enabled = counter.enable();
          vm.start = readVmstat();
          edge.start = sampleProcess(pid);
          rssPeakKb = edge.start.vmRssKb;
          poll = setInterval(pollRss, RSS_POLL_MS);
        },
        onMeasureEnd: () => {
          edge.end = sampleProcess(pid);
          vm.end = readVmstat();
          if (counter !== null) {
            const c = counter;
            const started = enabled;
            stopped = c.disable().then(async (disabled) => ({ confirmed: disabled && (await started), counts: await c.stop() }));
          }
          if (poll !== null) clearInterval(poll);
          rssPeakKb = Math.max(rssPeakKb, edge.end.vmRssKb);
        },
      },
      opts.timeoutMs,
    );
  } catch (err) {
    if (counter !== null) await (stopped ?? counter.stop());
    throw err;
  } finally {
    if (poll !== null) clearInterval(poll);
  }
  let syscalls: Record<string, number> | null = null;
  const { start, end } = edge;
  if (counter !== null) {
    const result = await (stopped ?? counter.stop().then((counts) => ({ confirmed: false, counts })));
    if (result.confirmed && result.counts.total !== undefined) syscalls = result.counts;
    else syscallsNote = 'perf did not confirm the window';
  }
  if (start === null || end === null) return { client, broker: null, syscallsNote: 'loadgen announced no window', memory: null };
  const d = diffSamples(start, end);
  return {
    client,
    broker: {
      seconds: d.seconds,
      cpuUserS: d.cpuUserS,
      cpuSysS: d.cpuSysS,
      cpuS: d.cpuS,
      voluntaryCtxt: d.voluntaryCtxt,
      involuntaryCtxt: d.involuntaryCtxt,
      rssPeakKb,
      io: d.io,
      syscalls,
    },
    syscallsNote,
    memory: memoryWindow(vm.start, vm.end),
  };
}

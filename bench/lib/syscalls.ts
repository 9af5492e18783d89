// Counts a broker's system calls inside a measurement window with `perf stat` attached to the
// broker process: started with its events disabled, enabled at the window's start and disabled
// at its end through perf's control descriptors, so only the window is counted. Tracepoint counting is
// done in the kernel; it makes each syscall slightly slower (the syscall slow path), which the
// results record so runs with and without it are not mixed up.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

const TRACEFS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'];

/** Syscalls worth naming: how the data path writes (sendfile, splice, send/write for copy mode
 * and headers, pwrite for appends) and how its threads wait. Each extra tracepoint adds about
 * 30 ms to perf's exit, so the list stays short; "total" counts every syscall. */
export const NAMED_SYSCALLS = ['sendfile64', 'splice', 'sendto', 'sendmsg', 'writev', 'write', 'pwrite64', 'epoll_wait', 'epoll_pwait', 'futex'] as const;

export const TOTAL_EVENT = 'raw_syscalls:sys_enter';

function tracefs(): string | null {
  return TRACEFS.find((d) => existsSync(join(d, 'raw_syscalls', 'sys_enter'))) ?? null;
}

/** The events this kernel has, or a reason why syscalls cannot be counted here. */
export function syscallEvents(): { events: string[] } | { unavailable: string } {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    return { unavailable: 'perf is not installed' };
  }
  const fs = tracefs();
  if (fs === null) return { unavailable: 'no raw_syscalls tracepoints (tracefs not mounted or no permission)' };
  const named = NAMED_SYSCALLS.filter((s) => existsSync(join(fs, 'syscalls', `sys_enter_${s}`))).map((s) => `syscalls:sys_enter_${s}`);
  return { events: [TOTAL_EVENT, ...named] };
}

/** Parses `perf stat -x,` output: "count,unit,event,..." per line. */
export function parsePerfCsv(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const f = line.split(',');
    if (f.length < 3) continue;
    const count = Number(f[0]);
    const event = f[2]!.trim();
    if (event === '' || !Number.isFinite(count) || f[0]!.trim() === '') continue;
    const name = event === TOTAL_EVENT ? 'total' : event.replace(/^syscalls:sys_enter_/, '');
    out[name] = count;
  }
  return out;
}

export class SyscallCounter {
  private readonly perf: ChildProcess;
  private stderr = '';
  private ackWaiters: Array<() => void> = [];
  private readonly exited: Promise<void>;

  private constructor(pid: number, events: string[]) {
    // perf reads commands from its fd 3 and answers "ack" on its fd 4; both are socket pairs
    // Node creates for the extra stdio slots, read through the event loop (no blocking reads).
    this.perf = spawn('perf', ['stat', '-x,', '-D', '-1', '--control', 'fd:3,4', '-e', events.join(','), '-p', String(pid)], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.perf.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const ack = this.perf.stdio[4] as Readable;
    // perf may exit at any time (a bad pid, SIGINT); its exit is handled through 'close', so
    // errors on the control sockets (EPIPE, ECONNRESET) carry no news.
    ack.on('error', () => {});
    (this.perf.stdio[3] as Writable).on('error', () => {});
    this.perf.on('error', () => {});
    ack.on('data', (chunk: Buffer) => {
      const n = chunk.toString().split('ack').length - 1;
      for (let i = 0; i < n; i++) this.ackWaiters.shift()?.();
    });
    this.exited = new Promise((resolve) => this.perf.once('close', () => resolve()));
  }

  /** Attaches to `pid`; resolves once perf answers, or to the reason it did not. */
  static async attach(pid: number, events: string[], timeoutMs = 5000): Promise<SyscallCounter | string> {
    const c = new SyscallCounter(pid, events);
    const ok = await c.command('ping', timeoutMs);
    if (!ok) {
      await c.stop();
      return `perf did not start: ${c.stderr.trim().split('\n').slice(-2).join(' ')}`;
    }
    return c;
  }

  private command(cmd: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.exited.then(() => resolve(false));
      this.ackWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      (this.perf.stdio[3] as Writable).write(`${cmd}\n`);
    });
  }

  /** Starts counting (call at the window's start; takes effect within a millisecond). */
  enable(): Promise<boolean> {
    return this.command('enable', 2000);
  }

  disable(): Promise<boolean> {
    return this.command('disable', 2000);
  }

  /** Ends perf and returns the counts of every enabled span ("total" = all syscalls). */
  async stop(): Promise<Record<string, number>> {
    if (this.perf.exitCode === null && this.perf.signalCode === null) this.perf.kill('SIGINT');
    await this.exited;
    return parsePerfCsv(this.stderr);
  }
}

// Counts a broker's system calls inside a measurement window with `perf stat` attached to the
// broker process: started with its events disabled, enabled at the window's start and disabled
// at its end through perf's control FIFO, so only the window is counted. Tracepoint counting is
// done in the kernel; it makes each syscall slightly slower (the syscall slow path), which the
// results record so runs with and without it are not mixed up.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TRACEFS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'];

/** Syscalls worth naming in the tables: the data path's writes and reads, and its waits. */
export const NAMED_SYSCALLS = [
  'sendfile64',
  'splice',
  'write',
  'writev',
  'sendto',
  'sendmsg',
  'pwrite64',
  'pwritev',
  'read',
  'readv',
  'recvfrom',
  'pread64',
  'fallocate',
  'epoll_wait',
  'epoll_pwait',
  'epoll_pwait2',
  'io_uring_enter',
  'futex',
] as const;

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
  private readonly dir: string;
  private readonly ctl: number;
  private stderr = '';
  private ackWaiters: Array<() => void> = [];
  private readonly exited: Promise<void>;

  private constructor(pid: number, events: string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'sluice-bench-perf-'));
    const ctlPath = join(this.dir, 'ctl');
    const ackPath = join(this.dir, 'ack');
    execFileSync('mkfifo', [ctlPath, ackPath]);
    // Opened read-write so neither open blocks waiting for the other end.
    this.ctl = openSync(ctlPath, 'r+');
    const ack = createReadStream(ackPath, { flags: 'r+', encoding: 'utf8' });
    ack.on('data', (chunk: string | Buffer) => {
      const n = String(chunk).split('ack').length - 1;
      for (let i = 0; i < n; i++) this.ackWaiters.shift()?.();
    });
    this.perf = spawn('perf', ['stat', '-x,', '-D', '-1', '--control', `fifo:${ctlPath},${ackPath}`, '-e', events.join(','), '-p', String(pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.perf.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.perf.once('exit', () => resolve()));
    this.exited.then(() => ack.destroy());
  }

  /** Attaches to `pid`; resolves once perf answers, or null (with the reason) if it does not. */
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
      this.ackWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
      writeSync(this.ctl, `${cmd}\n`);
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
    closeSync(this.ctl);
    rmSync(this.dir, { recursive: true, force: true });
    return parsePerfCsv(this.stderr);
  }
}

import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { diffSamples, parseIo, parseStat, parseStatus, sampleProcess } from './proc.ts';

describe('/proc parsing', () => {
  it('reads utime, stime and threads after the last parenthesis of the command name', () => {
    // Fields 3.. of a real stat line, with a command name holding spaces and parentheses.
    const line = '4242 (node (sluice) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 731 219 0 0 20 0 11 0 100 1000000 5000 18446744073709551615';
    expect(parseStat(line)).toEqual({ utimeTicks: 731, stimeTicks: 219, threads: 11 });
  });

  it('reads context switches, RSS and io counters', () => {
    const status = 'Name:\tnode\nVmRSS:\t  123456 kB\nvoluntary_ctxt_switches:\t900\nnonvoluntary_ctxt_switches:\t45\n';
    expect(parseStatus(status)).toEqual({ voluntaryCtxt: 900, involuntaryCtxt: 45, vmRssKb: 123456 });
    const io = 'rchar: 10\nwchar: 2000\nsyscr: 3\nsyscw: 4\nread_bytes: 0\n';
    expect(parseIo(io)).toEqual({ rchar: 10, wchar: 2000, syscr: 3, syscw: 4 });
  });

  it('turns two samples into CPU seconds and switches over the span', () => {
    const a = {
      atMs: 1000,
      stat: { utimeTicks: 100, stimeTicks: 50, threads: 5 },
      voluntaryCtxt: 10,
      involuntaryCtxt: 1,
      vmRssKb: 1,
      io: { rchar: 0, wchar: 0, syscr: 0, syscw: 0 },
    };
    const b = {
      atMs: 3000,
      stat: { utimeTicks: 250, stimeTicks: 80, threads: 5 },
      voluntaryCtxt: 30,
      involuntaryCtxt: 0,
      vmRssKb: 2,
      io: { rchar: 5, wchar: 9, syscr: 1, syscw: 2 },
    };
    const d = diffSamples(a, b, 100);
    expect(d.seconds).toBe(2);
    expect(d.cpuUserS).toBeCloseTo(1.5);
    expect(d.cpuSysS).toBeCloseTo(0.3);
    expect(d.cpuS).toBeCloseTo(1.8);
    expect(d.voluntaryCtxt).toBe(20);
    expect(d.involuntaryCtxt).toBe(0); // a thread that ended took its count along; never negative
    expect(d.io).toEqual({ rchar: 5, wchar: 9, syscr: 1, syscw: 2 });
  });

  it('samples a live process, summing switches over its threads', async () => {
    const child = spawn(process.execPath, ['-e', 'let x = 0; const end = Date.now() + 400; while (Date.now() < end) x++; setTimeout(() => {}, 2000);'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 50));
      const a = sampleProcess(child.pid!);
      await new Promise((r) => setTimeout(r, 500));
      const b = sampleProcess(child.pid!);
      expect(b.stat.threads).toBeGreaterThan(1); // node runs helper threads
      expect(diffSamples(a, b).cpuS).toBeGreaterThan(0.1);
      expect(b.vmRssKb).toBeGreaterThan(1000);
    } finally {
      child.kill();
    }
  });
});

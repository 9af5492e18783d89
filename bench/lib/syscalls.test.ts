import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SyscallCounter, syscallEvents } from './syscalls.ts';

const events = syscallEvents();

describe('SyscallCounter', () => {
  it.skipIf(!('events' in events))('counts only while enabled', async () => {
    const list = 'events' in events ? events.events : [];
    // A shell writing in a loop: a steady stream of write(2) calls.
    const child = spawn('sh', ['-c', 'while :; do echo x > /dev/null; done'], { stdio: 'ignore' });
    try {
      const c = await SyscallCounter.attach(child.pid!, list);
      if (typeof c === 'string') throw new Error(c);
      await new Promise((r) => setTimeout(r, 150)); // not counted: events start disabled
      expect(await c.enable()).toBe(true);
      await new Promise((r) => setTimeout(r, 150));
      expect(await c.disable()).toBe(true);
      const counts = await c.stop();
      expect(counts.total).toBeGreaterThan(100);
      expect(counts.write).toBeGreaterThan(10);
      expect(counts.write!).toBeLessThan(counts.total!);
    } finally {
      child.kill();
    }
  });

  it('reports why it cannot attach', async () => {
    if (!('events' in events)) return expect(events.unavailable).toMatch(/perf|tracepoints/);
    const r = await SyscallCounter.attach(2 ** 22 + 12345, events.events, 3000);
    expect(typeof r).toBe('string');
  });
});
